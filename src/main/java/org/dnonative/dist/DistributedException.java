package org.dnonative.dist;

/** A distributed run cannot go on: a rank failed, died, hung, or disagrees with the others. The message names the rank. */
public final class DistributedException extends RuntimeException {
    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
