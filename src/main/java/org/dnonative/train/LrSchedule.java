package org.dnonative.train;

/**
 * Learning rate per optimizer step: linear warmup from 0 to the peak over {@code warmupSteps},
 * then constant, linear decay or cosine decay to {@code minRatio * peak} at {@code totalSteps}.
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, Decay decay, double minRatio) {
    public enum Decay { CONSTANT, LINEAR, COSINE }

    public LrSchedule {
        if (!(peak > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + peak);
        if (warmupSteps < 0 || totalSteps < 1) throw new IllegalArgumentException("warmup must be >= 0 and total steps >= 1");
        if (minRatio < 0 || minRatio > 1) throw new IllegalArgumentException("min ratio must be in [0, 1]");
    }

    /** The rate for step {@code step} (0-based). */
    public double lr(int step) {
        if (step < warmupSteps) return peak * (step + 1) / (double) (warmupSteps + 1);
        if (decay == Decay.CONSTANT || totalSteps <= warmupSteps) return peak;
        double progress = Math.min(1.0, (step - warmupSteps) / (double) Math.max(1, totalSteps - warmupSteps));
        double factor = decay == Decay.LINEAR ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (minRatio + (1 - minRatio) * factor);
    }
}
