package org.dnonative.train;

/**
 * Optimisation settings of one training run: AdamW (betas, eps, decoupled weight decay), the
 * learning-rate schedule and gradient clipping by global norm (0 = off). Gradient accumulation
 * is not a setting: each micro-batch carries its own weight ({@link PolicyTrainer#accumulate}).
 */
public record TrainOptions(double learningRate, int warmupSteps, int totalSteps, LrSchedule.Decay decay, double minLrRatio,
                           double weightDecay, double beta1, double beta2, double eps, double maxGradNorm) {
    public TrainOptions {
        if (decay == null) throw new IllegalArgumentException("the learning-rate decay is null");
        new LrSchedule(learningRate, warmupSteps, totalSteps, decay, minLrRatio);  // checks the schedule's fields now, not at the first step
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) throw new IllegalArgumentException("weight decay must be finite and >= 0, got " + weightDecay);
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0) || !Double.isFinite(eps)) throw new IllegalArgumentException("eps must be finite and > 0, got " + eps);
        if (!(maxGradNorm >= 0) || !Double.isFinite(maxGradNorm)) throw new IllegalArgumentException("max grad norm must be finite and >= 0, got " + maxGradNorm);
    }

    /**
     * AdamW with transformers' defaults (betas 0.9 and 0.999, eps 1e-8), linear warmup over
     * {@code warmupSteps}, then linear decay to 0 at {@code totalSteps}.
     */
    public static TrainOptions adamW(double learningRate, int warmupSteps, int totalSteps, double weightDecay, double maxGradNorm) {
        return new TrainOptions(learningRate, warmupSteps, totalSteps, LrSchedule.Decay.LINEAR, 0.0, weightDecay, 0.9, 0.999, 1e-8,
                maxGradNorm);
    }

    /** The same with another decay after the warmup, to {@code minLrRatio} of the peak. */
    public TrainOptions withDecay(LrSchedule.Decay decay, double minLrRatio) {
        return new TrainOptions(learningRate, warmupSteps, totalSteps, decay, minLrRatio, weightDecay, beta1, beta2, eps, maxGradNorm);
    }

    /** The same with other AdamW moment decay rates. */
    public TrainOptions withBetas(double beta1, double beta2) {
        return new TrainOptions(learningRate, warmupSteps, totalSteps, decay, minLrRatio, weightDecay, beta1, beta2, eps, maxGradNorm);
    }

    public LrSchedule schedule() {
        return new LrSchedule(learningRate, warmupSteps, totalSteps, decay, minLrRatio);
    }
}
