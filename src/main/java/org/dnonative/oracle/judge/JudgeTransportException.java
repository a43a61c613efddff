package org.dnonative.oracle.judge;

/** No answer could be had from the endpoint: retries exhausted, or an error that retrying cannot fix. */
public class JudgeTransportException extends RuntimeException {
    public JudgeTransportException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The endpoint refused the request itself (an HTTP 4xx other than 408 and 429), or failed this
     * request again and again while it answered others: resending it now cannot help.
     */
    public static final class Rejected extends JudgeTransportException {
        private final int status;
        private final String body;

        Rejected(String message, int status, String body) {
            super(message, null);
            this.status = status;
            this.body = body == null ? "" : body;
        }

        public int status() {
            return status;
        }

        /** The response body (truncated), where servers say which parameter they refuse. */
        public String body() {
            return body;
        }
    }
}
