package org.dnonative.train;

/**
 * Optimisation settings for one DNO iteration's training: AdamW, the learning-rate schedule,
 * gradient clipping (0 = off) and gradient accumulation (micro-batches per optimizer step).
 */
public record TrainOptions(double learningRate, int warmupSteps, int totalSteps, LrSchedule.Decay decay, double minLrRatio,
                           double weightDecay, double beta1, double beta2, double eps, double maxGradNorm,
                           int accumulationSteps) {
    public TrainOptions {
        if (accumulationSteps < 1) throw new IllegalArgumentException("accumulation steps must be at least 1, got " + accumulationSteps);
        if (maxGradNorm < 0) throw new IllegalArgumentException("max grad norm must be >= 0");
    }

    /** DNO's defaults: lr 5e-5, 10% warmup then linear decay, no weight decay, clip at 1.0. */
    public static TrainOptions dnoDefaults(int totalSteps, int accumulationSteps) {
        return new TrainOptions(5e-5, Math.max(0, totalSteps / 10), totalSteps, LrSchedule.Decay.LINEAR, 0.0,
                0.0, 0.9, 0.999, 1e-8, 1.0, accumulationSteps);
    }

    public LrSchedule schedule() {
        return new LrSchedule(learningRate, warmupSteps, totalSteps, decay, minLrRatio);
    }
}
