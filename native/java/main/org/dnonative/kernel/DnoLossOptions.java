package org.dnonative.kernel;

/**
 * Settings of the DNO loss.
 *
 * @param beta        eta of the paper (beta of DPO): the scale of the log-ratio margin, > 0
 * @param ignoreIndex label value of positions that do not count (prompt, padding)
 * @param average     mean instead of sum of the counted token log-probs of a sequence
 * @param gradScale   upstream gradient: the gradient written is gradScale * dLoss/dLogits
 * @param threads     CPU threads, 0 for all cores (ignored on the GPU); at most {@link #MAX_THREADS}
 */
public record DnoLossOptions(float beta, long ignoreIndex, boolean average, float gradScale, int threads) {
    public static final long DEFAULT_IGNORE_INDEX = -100;
    /**
     * The most CPU threads a call may ask for. The native side starts one OS thread per requested
     * thread and sizes per-thread scratch by the count, so an unbounded count can fail thread
     * creation (which the native code cannot report: the process aborts) or allocate gigabytes;
     * 1024 is far above any machine's useful parallelism for these kernels.
     */
    public static final int MAX_THREADS = 1024;

    public DnoLossOptions {
        if (!(beta > 0) || !Float.isFinite(beta))
            throw new IllegalArgumentException("beta must be finite and > 0, got " + beta);
        if (!Float.isFinite(gradScale))
            throw new IllegalArgumentException("gradScale must be finite, got " + gradScale);
        if (threads < 0 || threads > MAX_THREADS)
            throw new IllegalArgumentException("threads must be in [0, " + MAX_THREADS + "] (0 = all cores), got " + threads);
    }

    /** beta 0.1 (the paper's default), ignore index -100, summed log-probs, gradScale 1, all cores. */
    public static DnoLossOptions defaults() {
        return new DnoLossOptions(0.1f, DEFAULT_IGNORE_INDEX, false, 1f, 0);
    }

    public DnoLossOptions withBeta(float value) {
        return new DnoLossOptions(value, ignoreIndex, average, gradScale, threads);
    }

    public DnoLossOptions withIgnoreIndex(long value) {
        return new DnoLossOptions(beta, value, average, gradScale, threads);
    }

    public DnoLossOptions withAverage(boolean value) {
        return new DnoLossOptions(beta, ignoreIndex, value, gradScale, threads);
    }

    public DnoLossOptions withGradScale(float value) {
        return new DnoLossOptions(beta, ignoreIndex, average, value, threads);
    }

    public DnoLossOptions withThreads(int value) {
        return new DnoLossOptions(beta, ignoreIndex, average, gradScale, value);
    }
}
