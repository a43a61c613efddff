package org.dnonative.kernel;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;

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
 * <p>Not yet run on a GPU: tested on the CPU emulation of CUDA (native/test/cuda_emu) only.
 */
public final class CudaFusedLinearDnoLoss implements AutoCloseable {
    private final long maxPairs;
    private final CudaLossBuffers buffers;
    private LossShape lastShape;

    public CudaFusedLinearDnoLoss(long maxPairs) {
        if (maxPairs <= 0) throw new IllegalArgumentException("maxPairs must be > 0, got " + maxPairs);
        this.maxPairs = maxPairs;
        NativeLibrary.ensureLoaded();
        if (!Cuda.isAvailable())
            throw new DnoException(DnoException.Status.NO_CUDA, "no CUDA device is available (or libdnonative was built without CUDA)");
        buffers = new CudaLossBuffers(maxPairs);
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
        buffers.upload(shape, refLogps, targets, stream);
        try (PointerScope scope = new PointerScope()) {
            LongPointer stats = new LongPointer(4);
            NativeLibrary.check(DnoNative.dno_fused_linear_cuda(shape.pairs(), shape.seqLen(), hiddenSize,
                    shape.vocab(), dtype.nativeCode(), hidden, weight, bias, labelsType.nativeCode(), labels,
                    options.ignoreIndex(), buffers.refLogps(), buffers.targets(shape, targets), options.beta(),
                    options.average() ? 1 : 0, options.gradScale(), buffers.loss(), buffers.logps(), buffers.z(shape),
                    buffers.chosen(shape), buffers.rejected(shape), gradHidden, gradWeight, gradBias,
                    fused.accumulate() ? 1 : 0, fused.memoryBudget(), stats.address(), buffers.status(), stream));
            lastShape = shape;
            return new FusedLinearResult(null, stats.get(0), stats.get(1), stats.get(2), stats.get(3));
        }
    }

    /** Synchronises {@code stream}, checks the device status and copies the outputs to the host. */
    public DnoLossResult result(long stream) {
        if (lastShape == null) throw new IllegalStateException("result() before enqueue()");
        return buffers.read(lastShape, stream, "the CUDA fused-linear DNO loss", "the gradients are unspecified");
    }

    @Override
    public void close() {
        buffers.close();
    }
}
