package org.dnonative.dno;

/**
 * Every random choice of a run draws from a seed derived from (run seed, iteration, stage), so a
 * run restarted at any stage makes the same choices as one that never stopped.
 */
public final class Seeds {
    private Seeds() {}

    public enum Stage { SPLIT, SFT, SAMPLE, TEACHER, PAIRS, REPLAY, TRAIN, EVAL }

    public static long derive(long runSeed, int iteration, Stage stage) {
        long z = mix(runSeed ^ 0x5DEECE66DL);
        z = mix(z + 0x9E3779B97F4A7C15L * (iteration + 1));
        return mix(z + 0xBF58476D1CE4E5B9L * (stage.ordinal() + 1));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
