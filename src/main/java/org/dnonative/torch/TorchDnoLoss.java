package org.dnonative.torch;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.dnonative.kernel.CudaDnoLoss;
import org.dnonative.kernel.DnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.LossShape;

/**
 * The DNO loss on libtorch tensors, without copying the logits: the kernels read the tensors'
 * data pointers (CPU) or device pointers on the current CUDA stream (GPU).
 *
 * <p>logits [N,T,V] float32/bfloat16/float16 contiguous, labels [N,T] int32/int64 on the same
 * device, refLogps [N] and targets [P] (any device, any float dtype: they are small and read on
 * the host). {@code grad} (same shape, dtype and device as logits, contiguous) receives
 * gradScale * dLoss/dLogits and may be {@code logits} itself. Holds device buffers once it has
 * run on a GPU: close it.
 */
public final class TorchDnoLoss implements AutoCloseable {
    private CudaDnoLoss cuda;
    private long cudaPairs, cudaSeqLen;

    public DnoLossResult compute(Tensor logits, Tensor labels, Tensor refLogps, Tensor targets,
                                 DnoLossOptions options, Tensor grad) {
        LossShape shape = checkShapes(logits, labels, grad);
        ElementType logitsType = elementType("logits", logits, true);
        ElementType labelsType = elementType("labels", labels, false);
        float[] ref = hostFloats("refLogps", refLogps, shape.sequences());
        float[] tgt = targets == null ? null : hostFloats("targets", targets, shape.pairs());
        if (logits.is_cuda()) {
            CudaDnoLoss loss = cudaFor(shape);
            return loss.compute(shape, address(logits), logitsType, address(labels), labelsType, ref, tgt, options,
                    grad == null ? 0 : address(grad), currentStream(logits));
        }
        if (!logits.is_cpu()) throw new IllegalArgumentException("logits must be on the CPU or a CUDA device");
        return DnoLoss.computeAt(shape, address(logits), logitsType, address(labels), labelsType, ref, tgt, options,
                grad == null ? 0 : address(grad));
    }

    /** Convenience for CPU tensors (no device state to hold). */
    public static DnoLossResult computeCpu(Tensor logits, Tensor labels, Tensor refLogps, Tensor targets,
                                           DnoLossOptions options, Tensor grad) {
        if (logits.is_cuda()) throw new IllegalArgumentException("computeCpu takes CPU tensors; use an instance for CUDA");
        try (TorchDnoLoss l = new TorchDnoLoss()) {
            return l.compute(logits, labels, refLogps, targets, options, grad);
        }
    }

    static LossShape checkShapes(Tensor logits, Tensor labels, Tensor grad) {
        if (logits == null) throw new IllegalArgumentException("logits is null");
        if (labels == null) throw new IllegalArgumentException("labels is null");
        if (logits.dim() != 3) throw new IllegalArgumentException("logits must be [N,T,V], got " + logits.dim() + " dimensions");
        long n = logits.size(0), t = logits.size(1), v = logits.size(2);
        if (n % 2 != 0 || n == 0)
            throw new IllegalArgumentException("logits must hold an even, non-zero number of sequences (chosen then rejected), got N=" + n);
        if (labels.dim() != 2 || labels.size(0) != n || labels.size(1) != t)
            throw new IllegalArgumentException("labels must be [N,T]=[" + n + "," + t + "], got " + shapeOf(labels));
        if (!logits.is_contiguous()) throw new IllegalArgumentException("logits must be contiguous");
        if (!labels.is_contiguous()) throw new IllegalArgumentException("labels must be contiguous");
        if (logits.is_cuda() != labels.is_cuda())
            throw new IllegalArgumentException("logits and labels must be on the same device");
        if (logits.is_cuda() && logits.device().index() != labels.device().index())
            throw new IllegalArgumentException("logits and labels must be on the same CUDA device");
        if (grad != null) {
            if (grad.dim() != 3 || grad.size(0) != n || grad.size(1) != t || grad.size(2) != v)
                throw new IllegalArgumentException("grad must be [N,T,V] like logits, got " + shapeOf(grad));
            if (grad.scalar_type().value != logits.scalar_type().value)
                throw new IllegalArgumentException("grad must have the logits' dtype " + logits.scalar_type() + ", got " + grad.scalar_type());
            if (!grad.is_contiguous()) throw new IllegalArgumentException("grad must be contiguous");
            if (grad.is_cuda() != logits.is_cuda() || (grad.is_cuda() && grad.device().index() != logits.device().index()))
                throw new IllegalArgumentException("grad must be on the logits' device");
        }
        return new LossShape(n / 2, t, v);
    }

    static ElementType elementType(String name, Tensor t, boolean floating) {
        ScalarType s = t.scalar_type().intern();
        if (floating) {
            if (s == ScalarType.Float) return ElementType.FLOAT32;
            if (s == ScalarType.BFloat16) return ElementType.BFLOAT16;
            if (s == ScalarType.Half) return ElementType.FLOAT16;
            throw new IllegalArgumentException(name + " must be float32, bfloat16 or float16, got " + s);
        }
        if (s == ScalarType.Int) return ElementType.INT32;
        if (s == ScalarType.Long) return ElementType.INT64;
        throw new IllegalArgumentException(name + " must be int32 or int64, got " + s);
    }

    static float[] hostFloats(String name, Tensor t, long expected) {
        if (t == null) throw new IllegalArgumentException(name + " is null");
        if (t.dim() != 1 || t.size(0) != expected)
            throw new IllegalArgumentException(name + " must be [" + expected + "], got " + shapeOf(t));
        Tensor host = t.to(ScalarType.Float).cpu().contiguous();
        float[] out = new float[(int) expected];
        new FloatPointer(host.data_ptr()).capacity(expected).get(out);
        return out;
    }

    static long address(Tensor t) {
        Pointer p = t.data_ptr();
        return p.address();
    }

    static String shapeOf(Tensor t) {
        StringBuilder sb = new StringBuilder("[");
        for (long d = 0; d < t.dim(); d++) sb.append(d > 0 ? "," : "").append(t.size(d));
        return sb.append("]").toString();
    }

    /**
     * cudaStream_t of the current libtorch stream of the tensor's device. Looked up reflectively
     * so that this class loads without the CUDA presets when only CPU tensors are used.
     */
    static long currentStream(Tensor onDevice) {
        try {
            Class<?> torchCuda = Class.forName("org.bytedeco.pytorch.global.torch_cuda");
            Object stream = torchCuda.getMethod("getCurrentCUDAStream", byte.class)
                    .invoke(null, onDevice.device().index());
            Object raw = stream.getClass().getMethod("stream").invoke(stream);
            return raw == null ? 0 : ((Pointer) raw).address();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot get the current CUDA stream from libtorch (is the GPU build of the PyTorch presets on the classpath?)", e);
        }
    }

    private CudaDnoLoss cudaFor(LossShape shape) {
        if (cuda == null || shape.pairs() > cudaPairs || shape.seqLen() > cudaSeqLen) {
            if (cuda != null) cuda.close();
            cudaPairs = Math.max(cudaPairs, shape.pairs());
            cudaSeqLen = Math.max(cudaSeqLen, shape.seqLen());
            cuda = new CudaDnoLoss(cudaPairs, cudaSeqLen);
        }
        return cuda;
    }

    @Override
    public void close() {
        if (cuda != null) {
            cuda.close();
            cuda = null;
        }
    }
}
