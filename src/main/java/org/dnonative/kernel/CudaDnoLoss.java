package org.dnonative.kernel;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.dnonative.kernel.jni.DnoNative;

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
    private final CudaBuffer outputs;   // loss [1] | logps [N] | z [P] | chosen [P] | rejected [P]
    private final CudaBuffer status;
    private final CudaBuffer workspace;
    private final CudaBuffer hostSide;  // ref_logps [N] | targets [P], uploaded per call
    private LossShape lastShape;

    public CudaDnoLoss(long maxPairs, long maxSeqLen) {
        if (maxPairs <= 0 || maxSeqLen <= 0)
            throw new IllegalArgumentException("maxPairs and maxSeqLen must be > 0, got " + maxPairs + ", " + maxSeqLen);
        this.maxSequences = 2 * maxPairs;
        this.maxPositions = maxSequences * maxSeqLen;
        NativeLibrary.ensureLoaded();
        if (!Cuda.isAvailable())
            throw new DnoException(DnoException.Status.NO_CUDA, "no CUDA device is available (or libdnonative was built without CUDA)");
        CudaBuffer o = null, s = null, w = null, h = null;
        try {
            o = new CudaBuffer(4 * (1 + maxSequences + 3 * maxPairs));
            s = new CudaBuffer(4);
            w = new CudaBuffer(DnoNative.dno_loss_cuda_workspace_size(maxSequences, maxSeqLen));
            h = new CudaBuffer(4 * (maxSequences + maxPairs));
        } catch (RuntimeException e) {
            for (CudaBuffer b : new CudaBuffer[] {o, s, w, h}) if (b != null) b.close();
            throw e;
        }
        outputs = o;
        status = s;
        workspace = w;
        hostSide = h;
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
        long n = shape.sequences(), p = shape.pairs();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer host = new FloatPointer(n + p);
            host.put(refLogps);
            if (targets != null) host.position(n).put(targets).position(0);
            hostSide.copyFromHost(host, 4 * (n + p));
        }
        NativeLibrary.check(DnoNative.dno_cuda_memset(status.address(), 0, 4, stream));
        long o = outputs.address();
        NativeLibrary.check(DnoNative.dno_loss_cuda(shape.pairs(), shape.seqLen(), shape.vocab(),
                logitsType.nativeCode(), logits, labelsType.nativeCode(), labels, options.ignoreIndex(),
                hostSide.address(), targets == null ? 0 : hostSide.address() + 4 * n, options.beta(),
                options.average() ? 1 : 0, options.gradScale(), o, o + 4, o + 4 * (1 + n), o + 4 * (1 + n + p),
                o + 4 * (1 + n + 2 * p), grad, status.address(), workspace.address(), stream));
        lastShape = shape;
    }

    /** Synchronises {@code stream}, checks the device status, and copies the outputs to the host. */
    public DnoLossResult result(long stream) {
        if (lastShape == null) throw new IllegalStateException("result() before enqueue()");
        int[] flags = new int[1];
        NativeLibrary.check(DnoNative.dno_cuda_read_status(status.address(), stream, flags));
        if (flags[0] != 0) throw statusError(flags[0]);
        int n = Math.toIntExact(lastShape.sequences()), p = Math.toIntExact(lastShape.pairs());
        try (PointerScope scope = new PointerScope()) {
            FloatPointer host = new FloatPointer(1 + n + 3L * p);
            outputs.copyToHost(host, 4L * (1 + n + 3L * p));
            float[] all = new float[1 + n + 3 * p];
            host.get(all);
            float[] logps = java.util.Arrays.copyOfRange(all, 1, 1 + n);
            float[] z = java.util.Arrays.copyOfRange(all, 1 + n, 1 + n + p);
            float[] chosen = java.util.Arrays.copyOfRange(all, 1 + n + p, 1 + n + 2 * p);
            float[] rejected = java.util.Arrays.copyOfRange(all, 1 + n + 2 * p, 1 + n + 3 * p);
            return new DnoLossResult(all[0], logps, z, chosen, rejected);
        }
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
        return outputs.address();
    }

    /** Device address of the logps [N] of the last enqueued call. */
    public long logpsAddress() {
        return outputs.address() + 4;
    }

    private static DnoException statusError(int flags) {
        StringBuilder sb = new StringBuilder("the CUDA DNO loss found bad input:");
        if ((flags & 1) != 0) sb.append(" NaN or infinite logits (at a counted position) or reference log-probs;");
        if ((flags & 2) != 0) sb.append(" a label outside [0,V) that is not the ignore index;");
        if ((flags & 4) != 0) sb.append(" a target outside [0,1];");
        sb.append(" no gradient was written");
        DnoException.Status s = (flags & 1) != 0 ? DnoException.Status.NONFINITE
                : (flags & 2) != 0 ? DnoException.Status.LABEL_RANGE : DnoException.Status.TARGET_RANGE;
        return new DnoException(s, sb.toString());
    }

    @Override
    public void close() {
        outputs.close();
        status.close();
        workspace.close();
        hostSide.close();
    }
}
