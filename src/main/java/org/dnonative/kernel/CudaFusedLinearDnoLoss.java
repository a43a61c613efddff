package org.dnonative.kernel;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.dnonative.kernel.jni.DnoNative;

/**
 * The fused-linear DNO loss on a CUDA device, for callers that own device memory: raw device
 * addresses of hidden [N,T,H], weight [V,H], bias [V] (or 0), labels, and the gradient buffers
 * (each 0 for none), plus a stream. GEMMs go through cuBLAS, loaded at run time (bf16/fp16
 * operands, float32 accumulation). An instance holds the device-side outputs and status word
 * for up to {@code maxPairs} pairs; close it to free them.
 *
 * <p>{@link #enqueue} copies the labels to the host once to plan the chunks (one
 * synchronisation of the stream), then only enqueues work. {@link #result} synchronises, checks
 * the device status and reads the outputs. On a failure found on the device the gradient
 * buffers hold unspecified values.
 *
 * <p>Not yet run on a GPU (the build machines have none): compiled, not tested.
 */
public final class CudaFusedLinearDnoLoss implements AutoCloseable {
    private final long maxPairs;
    private final CudaBuffer outputs;   // loss [1] | logps [N] | z [P] | chosen [P] | rejected [P]
    private final CudaBuffer status;
    private final CudaBuffer hostSide;  // ref_logps [N] | targets [P]
    private LossShape lastShape;

    public CudaFusedLinearDnoLoss(long maxPairs) {
        if (maxPairs <= 0) throw new IllegalArgumentException("maxPairs must be > 0, got " + maxPairs);
        this.maxPairs = maxPairs;
        NativeLibrary.ensureLoaded();
        if (!Cuda.isAvailable())
            throw new DnoException(DnoException.Status.NO_CUDA, "no CUDA device is available (or libdnonative was built without CUDA)");
        CudaBuffer o = null, s = null, h = null;
        try {
            o = new CudaBuffer(4 * (1 + 2 * maxPairs + 3 * maxPairs));
            s = new CudaBuffer(4);
            h = new CudaBuffer(4 * (3 * maxPairs));
        } catch (RuntimeException e) {
            for (CudaBuffer b : new CudaBuffer[] {o, s, h}) if (b != null) b.close();
            throw e;
        }
        outputs = o;
        status = s;
        hostSide = h;
    }

    /**
     * Launches the loss and the requested gradients on {@code stream}; returns the chunking
     * statistics (peak extra device bytes, chunks, GEMMs, two-pass pairs) with a null result.
     */
    public FusedLinearResult enqueue(LossShape shape, long hiddenSize, ElementType dtype, long hidden, long weight,
                                     long bias, long labels, ElementType labelsType, float[] refLogps, float[] targets,
                                     DnoLossOptions options, FusedLinearOptions fused, long gradHidden,
                                     long gradWeight, long gradBias, long stream) {
        DnoLoss.checkTypes(dtype, labelsType);
        FusedLinearDnoLoss.checkHiddenSize(hiddenSize);
        DnoLoss.checkHost(shape, refLogps, targets);
        if (shape.pairs() > maxPairs)
            throw new IllegalArgumentException("shape " + shape + " exceeds this instance's capacity of " + maxPairs + " pairs");
        if (hidden == 0) throw new IllegalArgumentException("hidden device address is 0");
        if (weight == 0) throw new IllegalArgumentException("weight device address is 0");
        if (labels == 0) throw new IllegalArgumentException("labels device address is 0");
        if (gradBias != 0 && bias == 0) throw new IllegalArgumentException("gradBias needs a bias (bias is 0)");
        if (options == null || fused == null) throw new IllegalArgumentException("options are null");
        long n = shape.sequences(), p = shape.pairs();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer host = new FloatPointer(n + p);
            host.put(refLogps);
            if (targets != null) host.position(n).put(targets).position(0);
            hostSide.copyFromHost(host, 4 * (n + p));
            NativeLibrary.check(DnoNative.dno_cuda_memset(status.address(), 0, 4, stream));
            LongPointer stats = new LongPointer(4);
            long o = outputs.address();
            NativeLibrary.check(DnoNative.dno_fused_linear_cuda(shape.pairs(), shape.seqLen(), hiddenSize,
                    shape.vocab(), dtype.nativeCode(), hidden, weight, bias, labelsType.nativeCode(), labels,
                    options.ignoreIndex(), hostSide.address(), targets == null ? 0 : hostSide.address() + 4 * n,
                    options.beta(), options.average() ? 1 : 0, options.gradScale(), o, o + 4, o + 4 * (1 + n),
                    o + 4 * (1 + n + p), o + 4 * (1 + n + 2 * p), gradHidden, gradWeight, gradBias,
                    fused.accumulate() ? 1 : 0, fused.memoryBudget(), stats.address(), status.address(), stream));
            lastShape = shape;
            return new FusedLinearResult(null, stats.get(0), stats.get(1), stats.get(2), stats.get(3));
        }
    }

    /** Synchronises {@code stream}, checks the device status and copies the outputs to the host. */
    public DnoLossResult result(long stream) {
        if (lastShape == null) throw new IllegalStateException("result() before enqueue()");
        int[] flags = new int[1];
        NativeLibrary.check(DnoNative.dno_cuda_read_status(status.address(), stream, flags));
        if (flags[0] != 0) {
            DnoException.Status s = (flags[0] & 1) != 0 ? DnoException.Status.NONFINITE
                    : (flags[0] & 2) != 0 ? DnoException.Status.LABEL_RANGE : DnoException.Status.TARGET_RANGE;
            throw new DnoException(s, "the CUDA fused-linear DNO loss found bad input (flags " + flags[0]
                    + ": 1 non-finite logits or reference log-probs, 2 label range, 4 target range); gradients are unspecified");
        }
        int n = Math.toIntExact(lastShape.sequences()), p = Math.toIntExact(lastShape.pairs());
        try (PointerScope scope = new PointerScope()) {
            FloatPointer host = new FloatPointer(1 + n + 3L * p);
            outputs.copyToHost(host, 4L * (1 + n + 3L * p));
            return FusedLinearDnoLoss.result(host, new LongPointer(4), n, p).result();
        }
    }

    @Override
    public void close() {
        outputs.close();
        status.close();
        hostSide.close();
    }
}
