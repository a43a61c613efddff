package org.dnonative.kernel;


/** The few CUDA runtime calls a JVM caller needs without the CUDA presets. */
public final class Cuda {
    private Cuda() {}

    /** Number of CUDA devices; 0 when the library has no CUDA or no driver/device is present. */
    public static int deviceCount() {
        NativeLibrary.ensureLoaded();
        int[] count = new int[1];
        try {
            NativeLibrary.check(DnoNative.dno_cuda_device_count(count));
        } catch (DnoException e) {
            return 0;
        }
        return count[0];
    }

    public static boolean isAvailable() {
        return deviceCount() > 0;
    }

    /**
     * The most memory, in bytes, that was in use from the device's default stream-ordered pool
     * (where the CUDA fused-linear loss takes its workspace) since the last reset, measured by the
     * CUDA runtime; {@code reset} then restarts the count from what is in use now. Synchronise
     * first.
     */
    public static long asyncPoolPeakBytes(boolean reset) {
        NativeLibrary.ensureLoaded();
        long[] bytes = new long[1];
        NativeLibrary.check(DnoNative.dno_cuda_async_pool_peak(bytes, reset ? 1 : 0));
        return bytes[0];
    }

    /** Blocks until all work on {@code stream} (0 = the legacy default stream) is done. */
    public static void synchronize(long stream) {
        NativeLibrary.ensureLoaded();
        NativeLibrary.check(DnoNative.dno_cuda_stream_synchronize(stream));
    }
}
