package org.dnonative.model;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.AmxLinear;
import org.dnonative.kernel.SmallLinear;

import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The linear layers of a forward pass over many rows without autograd (scoring, prefill) through
 * the project's AMX kernel ({@link AmxLinear}: bf16x3 tiles, about float32 accuracy), on CPUs
 * that have it; everything else stays on libtorch.
 *
 * <p>Why: a float32 GEMM on one core is bound by its FMA units (OpenBLAS, which the presets'
 * libtorch calls, and MKL, which PyTorch's wheels call, both ~120-145 GFLOP/s here), while the
 * AMX kernel does the same product, to about 5e-6 of the largest output, at ~230-250 GFLOP/s of
 * float32 work (benchmarks/RESULTS.md). Training keeps libtorch (its backward needs autograd), the
 * decode step keeps {@link DecodeLinear}, and weights under {@link DecodeLinear#MIN_WEIGHT}
 * elements stay on libtorch: the embedded demo's tiny policy scores exactly as before.
 * {@code DNO_AMX=off} turns it off.
 *
 * <p>The weights are packed once per {@link CausalLM#withAmxWeights} view (one scoring call), into
 * as many bytes as their float32 values; models whose matrices exceed {@link #MAX_PACKED_BYTES}
 * are not packed (libtorch then computes, using no extra memory).
 */
final class ManyRowLinear {
    /** A weight in the kernel's layout. */
    record Packed(BytePointer data, long out, long in) implements AutoCloseable {
        @Override
        public void close() {
            data.close();
        }
    }

    /** At most this many bytes of packed weights per view: 4 GiB (a 1B-parameter float32 model's matrices). */
    static final long MAX_PACKED_BYTES = 4L << 30;

    private ManyRowLinear() {}

    /** Whether a view would use the kernel on this machine. */
    static boolean enabled() {
        return AmxLinear.available();
    }

    /**
     * Packs every distinct float32 CPU matrix of at least {@link DecodeLinear#MIN_WEIGHT} elements;
     * an empty map where the kernel does not run or the packed bytes would exceed the cap.
     */
    static Map<Tensor, Packed> pack(Collection<Tensor> params, int threads) {
        Map<Tensor, Packed> out = new IdentityHashMap<>();
        if (!enabled()) return out;
        long total = 0;
        for (Tensor p : params)
            if (packable(p)) total += AmxLinear.packedBytes(p.size(0), p.size(1));
        if (total > MAX_PACKED_BYTES) return out;
        for (Tensor p : params) {
            if (!packable(p) || out.containsKey(p)) continue;
            long o = p.size(0), in = p.size(1);
            BytePointer data = new BytePointer(AmxLinear.packedBytes(o, in));
            AmxLinear.pack(o, in, p.data_ptr().address(), in, data.address(), threads);
            out.put(p, new Packed(data, o, in));
        }
        return out;
    }

    private static boolean packable(Tensor p) {
        return p.dim() == 2 && p.is_cpu() && Tensors.isFloat32(p) && p.is_contiguous() && p.numel() >= DecodeLinear.MIN_WEIGHT;
    }

    /** {@code x · wᵀ (+ bias)} by the kernel, or null when this call is not one it takes. */
    static Tensor tryApply(Tensor x, Tensor bias, Packed w) {
        if (w == null || GradMode.is_enabled()) return null;
        if (!x.is_cpu() || !Tensors.isFloat32(x) || x.dim() < 1 || x.size(-1) != w.in()) return null;
        if (torch.is_autocast_enabled(torch.DeviceType.CPU)) return null;
        long rows = x.numel() / w.in();
        if (rows <= SmallLinear.MAX_EFFICIENT_ROWS) return null;   // the decode kernel's range
        if (bias != null && (!Tensors.isFloat32(bias) || !bias.is_contiguous() || bias.numel() != w.out())) return null;
        Tensor xc = x.contiguous();
        long[] shape = x.sizes().vec().get();
        shape[shape.length - 1] = w.out();
        Tensor y = torch.empty(shape, Tensors.options(Tensors.FLOAT), null);
        AmxLinear.apply(rows, w.in(), w.out(), xc.data_ptr().address(), w.in(), w.data().address(),
                bias == null ? 0 : bias.data_ptr().address(), y.data_ptr().address(), DecodeLinear.threads());
        return y;
    }
}
