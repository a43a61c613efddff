package org.dnonative.oracle.judge;

/**
 * The endpoint failed for longer than the patience while a batch was judged: {@code missing} of its
 * {@code total} judgments could not be had. The ones that could are cached, so asking the batch again
 * later (a resumed run) pays only for the missing ones.
 */
public final class JudgeUnavailableException extends JudgeTransportException {
    private final int missing;
    private final int total;

    JudgeUnavailableException(String message, int missing, int total) {
        super(message, null);
        this.missing = missing;
        this.total = total;
    }

    public int missing() {
        return missing;
    }

    public int total() {
        return total;
    }
}
