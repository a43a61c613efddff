package org.dnonative.kernel;


/**
 * The DNO loss on a CUDA device, for callers that own device memory (raw device pointers and a
 * stream). An instance holds the device-side outputs, status word and workspace for batches up
 * to a maximum shape, so that a training loop allocates them once; close it to free them.
 *
 * <p>{@link #enqueue} only launches work on the stream (no host synchronisation); the outputs
 * stay on the device ({@link #lossAddress()}, ...). {@link #result} synchronises the stream,
 * reads the device status word and throws a {@link DnoException} if the kernels found a NaN,
 * an out-of-range label or target; in that case the gradient kernel wrote nothing.
 */
public final class CudaDnoLoss implements AutoCloseable {
    private final long maxSequences;
    private final long maxPositions;
    private final CudaLossBuffers buffers;
    private final CudaBuffer workspace;
    private LossShape lastShape;

    public CudaDnoLoss(long maxPairs, long maxSeqLen) {
        if (maxPairs <= 0 || maxSeqLen <= 0)
            throw new IllegalArgumentException("maxPairs and maxSeqLen must be > 0, got " + maxPairs + ", " + maxSeqLen);
        this.maxSequences = 2 * maxPairs;
        this.maxPositions = maxSequences * maxSeqLen;
        NativeLibrary.ensureLoaded();
        if (!Cuda.isAvailable())
            throw new DnoException(DnoException.Status.NO_CUDA, "no CUDA device is available (or libdnonative was built without CUDA)");
        buffers = new CudaLossBuffers(maxPairs);
        try {
            workspace = new CudaBuffer(DnoNative.dno_loss_cuda_workspace_size(maxSequences, maxSeqLen));
        } catch (RuntimeException e) {
            buffers.close();
            throw e;
        }
    }

    /**
     * Launches the loss (and the gradient when {@code grad} != 0) on {@code stream}.
     * refLogps and targets come from the host and are uploaded first (a stream-ordered copy of
     * a few bytes per sequence). logits, labels and grad are device addresses.
     */
    public void enqueue(LossShape shape, long logits, ElementType logitsType, long labels, ElementType labelsType,
                        float[] refLogps, float[] targets, DnoLossOptions options, long grad, long stream) {
        DnoLoss.checkTypes(logitsType, labelsType);
        DnoLoss.checkHost(shape, refLogps, targets);
        if (shape.sequences() > maxSequences || shape.positions() > maxPositions)
            throw new IllegalArgumentException("shape " + shape + " exceeds this CudaDnoLoss's capacity of "
                    + maxSequences + " sequences / " + maxPositions + " positions");
        if (logits == 0) throw new IllegalArgumentException("logits device address is 0");
        if (labels == 0) throw new IllegalArgumentException("labels device address is 0");
        buffers.upload(shape, refLogps, targets, stream);
        NativeLibrary.check(DnoNative.dno_loss_cuda(shape.pairs(), shape.seqLen(), shape.vocab(),
                logitsType.nativeCode(), logits, labelsType.nativeCode(), labels, options.ignoreIndex(),
                buffers.refLogps(), buffers.targets(shape, targets), options.beta(), options.average() ? 1 : 0,
                options.gradScale(), buffers.loss(), buffers.logps(), buffers.z(shape), buffers.chosen(shape),
                buffers.rejected(shape), grad, buffers.status(), workspace.address(), stream));
        lastShape = shape;
    }

    /** Synchronises {@code stream}, checks the device status, and copies the outputs to the host. */
    public DnoLossResult result(long stream) {
        if (lastShape == null) throw new IllegalStateException("result() before enqueue()");
        return buffers.read(lastShape, stream, "the CUDA DNO loss", "no gradient was written");
    }

    /** Enqueue, then wait for the result. */
    public DnoLossResult compute(LossShape shape, long logits, ElementType logitsType, long labels,
                                 ElementType labelsType, float[] refLogps, float[] targets, DnoLossOptions options,
                                 long grad, long stream) {
        enqueue(shape, logits, logitsType, labels, labelsType, refLogps, targets, options, grad, stream);
        return result(stream);
    }

    /** Device address of the loss (one float32) of the last enqueued call. */
    public long lossAddress() {
        return buffers.loss();
    }

    /** Device address of the logps [N] of the last enqueued call. */
    public long logpsAddress() {
        return buffers.logps();
    }

    /** Bytes of device workspace an instance sized for {@code sequences} x {@code seqLen} allocates (besides its outputs). */
    public static long workspaceBytes(long sequences, long seqLen) {
        if (sequences < 1 || seqLen < 1) throw new IllegalArgumentException("sequences and seqLen must be >= 1, got " + sequences + ", " + seqLen);
        NativeLibrary.ensureLoaded();
        return DnoNative.dno_loss_cuda_workspace_size(sequences, seqLen);
    }

    @Override
    public void close() {
        buffers.close();
        workspace.close();
    }
}
