package org.dnonative.train;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * Mixed precision for a forward pass: while open, libtorch's autocast runs matmuls in bfloat16 on
 * the given device type while the parameters (the master weights) and the optimizer state stay
 * float32; the model keeps its softmax and RMSNorm in float32 explicitly. Intended for CUDA; on the
 * CPU it works too but is slower than float32, so callers enable it only on the GPU
 * ({@link #forDevice}). Autocast state is thread-local: open and close on the same thread.
 */
public final class Autocast implements AutoCloseable {
    private final torch.DeviceType type;
    private final boolean wasEnabled;
    private final torch.ScalarType previousType;

    private Autocast(torch.DeviceType type, torch.ScalarType dtype) {
        this.type = type;
        this.wasEnabled = torch.is_autocast_enabled(type);
        this.previousType = torch.get_autocast_dtype(type);
        torch.set_autocast_dtype(type, dtype);
        torch.set_autocast_enabled(type, true);
    }

    /** bf16 autocast on {@code device}'s type. */
    public static Autocast bf16(Device device) {
        return new Autocast(device.type(), torch.ScalarType.BFloat16);
    }

    /** An open autocast region, or none; closing it throws nothing. */
    public interface Region extends AutoCloseable {
        @Override
        void close();
    }

    /** bf16 autocast when {@code device} is CUDA and {@code enabled}, otherwise a no-op. */
    public static Region forDevice(Device device, boolean enabled) {
        if (enabled && device.is_cuda()) return bf16(device)::close;
        return () -> { };
    }

    @Override
    public void close() {
        torch.set_autocast_enabled(type, wasEnabled);
        torch.set_autocast_dtype(type, previousType);
        // libtorch caches the bf16 cast of each leaf weight while autocast is on, keyed by the tensor,
        // not its version: without clearing, the forward after an optimizer step would multiply by the
        // old weights (Python's autocast clears at exit too). Measured: ones(4,4) doubled in place still
        // gave the old product under a second region.
        if (!wasEnabled) torch.clear_cache();
    }
}
