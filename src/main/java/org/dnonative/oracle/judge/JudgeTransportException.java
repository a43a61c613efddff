package org.dnonative.oracle.judge;

/** No answer could be had from the endpoint: retries exhausted, or an error that retrying cannot fix. */
public final class JudgeTransportException extends RuntimeException {
    public JudgeTransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
