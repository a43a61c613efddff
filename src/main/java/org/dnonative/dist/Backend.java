package org.dnonative.dist;

import java.util.Locale;

/** The c10d backend of a run's process group: Gloo on the CPU (any network), NCCL between CUDA devices. */
public enum Backend {
    GLOO, NCCL;

    /** {@code auto} (NCCL when the run's device is CUDA, else Gloo), {@code gloo} or {@code nccl}. */
    public static Backend parse(String name, String device) {
        String n = name == null ? "auto" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "auto" -> device != null && device.startsWith("cuda") ? NCCL : GLOO;
            case "gloo" -> GLOO;
            case "nccl" -> NCCL;
            default -> throw new IllegalArgumentException("--dist-backend must be auto, gloo or nccl, got '" + name + "'");
        };
    }
}
