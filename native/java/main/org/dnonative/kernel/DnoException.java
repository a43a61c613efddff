package org.dnonative.kernel;

/** A failure reported by libdnonative: the status code and its message. */
public class DnoException extends RuntimeException {
    /** The dno_status codes of native/include/dno_loss.h. */
    public enum Status {
        OK, INVALID_ARGUMENT, NONFINITE, LABEL_RANGE, TARGET_RANGE, CUDA, NO_CUDA, OUT_OF_MEMORY, INTERNAL, UNSUPPORTED;

        static Status of(int code) {
            Status[] all = values();
            return code >= 0 && code < all.length ? all[code] : INTERNAL;
        }
    }

    private final Status status;

    public DnoException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
