package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where the {@code gpu} test classes run: on a CUDA device (benchmarks/gpu/check.sh), on the CPU
 * emulation of CUDA (the Maven execution {@code gpu-emulated}, which sets
 * {@code -Ddno.cudaEmulated=true} and preloads native/test/cuda_emu's library), or nowhere.
 */
public final class GpuTestSupport {
    private GpuTestSupport() {}

    /** Skips without a device, except under the emulation, where a missing device is an error. */
    public static void needsGpu() {
        if (Boolean.getBoolean("dno.cudaEmulated"))
            assertTrue(Cuda.isAvailable(), "dno.cudaEmulated is set but the CUDA emulation is not loaded "
                    + "(LD_PRELOAD of cppbuild/cuda-emu-*/libdnonative_cudaemu.so)");
        assumeTrue(Cuda.isAvailable(), "no CUDA device: GPU tests skipped");
    }
}
