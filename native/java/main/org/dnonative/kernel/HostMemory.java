package org.dnonative.kernel;

/**
 * The process's host-memory policy. {@link #keepFreed()} makes the C library's allocator keep
 * freed memory for reuse: glibc otherwise maps every large block (a training step's activations
 * and gradients, a scoring batch's logits: tens of MB each) fresh and unmaps it when freed, so
 * each step page-faults and zeroes them again. Measured on the 2-core build machine
 * (2026-12-02, benchmarks/RESULTS.md): a training step of the 39M bench model 5-10% faster,
 * scoring 4-10%. Process-wide and not undone: the process then stays at its memory high-water
 * mark. The command line turns it on (off with {@code DNO_KEEP_FREED_MEMORY=off}); a program that
 * links the kernels decides for itself.
 */
public final class HostMemory {
    private HostMemory() {}

    /** Applies the policy; false (and nothing changed) where the C library is not glibc. */
    public static boolean keepFreed() {
        NativeLibrary.ensureLoaded();
        int rc = DnoNative.dno_keep_freed_host_memory();
        if (rc == DnoException.Status.UNSUPPORTED.ordinal()) return false;
        NativeLibrary.check(rc);
        return true;
    }
}
