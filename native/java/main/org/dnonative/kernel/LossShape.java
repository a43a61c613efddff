package org.dnonative.kernel;

/**
 * The shape of one DNO loss batch: {@code pairs} preference pairs, so {@code 2*pairs} sequences
 * (chosen rows first, then the rejected rows in the same order), each of {@code seqLen}
 * positions over a vocabulary of {@code vocab} tokens.
 */
public record LossShape(long pairs, long seqLen, long vocab) {
    public LossShape {
        if (pairs <= 0) throw new IllegalArgumentException("pairs must be > 0, got " + pairs);
        if (seqLen <= 0) throw new IllegalArgumentException("seqLen must be > 0, got " + seqLen);
        if (vocab <= 0) throw new IllegalArgumentException("vocab must be > 0, got " + vocab);
        if ((double) 2 * pairs * seqLen * vocab > 1e18)
            throw new IllegalArgumentException("2*pairs*seqLen*vocab overflows: " + pairs + "x" + seqLen + "x" + vocab);
    }

    public long sequences() {
        return 2 * pairs;
    }

    /** Positions in the batch: sequences * seqLen (the rows of the logits). */
    public long positions() {
        return sequences() * seqLen;
    }

    /** Elements of the logits and of their gradient: sequences * seqLen * vocab. */
    public long logitElements() {
        return positions() * vocab;
    }

    @Override
    public String toString() {
        return "[N=" + sequences() + ", T=" + seqLen + ", V=" + vocab + "]";
    }
}
