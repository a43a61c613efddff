package org.dnonative.kernel;

import java.util.Arrays;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * The device buffers both CUDA losses share, for up to {@code maxPairs} pairs: the outputs
 * (loss [1] | logps [N] | z [P] | chosen [P] | rejected [P]), the status word the kernels OR
 * their error flags into, and the host-side inputs (ref_logps [N] | targets [P]) uploaded per call.
 */
final class CudaLossBuffers implements AutoCloseable {
    private final CudaBuffer outputs;
    private final CudaBuffer status;
    private final CudaBuffer hostSide;

    CudaLossBuffers(long maxPairs) {
        CudaBuffer o = null, s = null, h = null;
        try {
            o = new CudaBuffer(4 * (1 + 5 * maxPairs));
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

    /** Uploads ref_logps and targets and zeroes the status word, in the order of {@code stream}. */
    void upload(LossShape shape, float[] refLogps, float[] targets, long stream) {
        long n = shape.sequences(), p = shape.pairs();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer host = new FloatPointer(n + p);
            host.put(refLogps);
            if (targets != null) host.position(n).put(targets).position(0);
            hostSide.copyFromHost(host, 4 * (n + p));
        }
        NativeLibrary.check(DnoNative.dno_cuda_memset(status.address(), 0, 4, stream));
    }

    long refLogps() { return hostSide.address(); }
    long targets(LossShape shape, float[] targets) { return targets == null ? 0 : hostSide.address() + 4 * shape.sequences(); }
    long status() { return status.address(); }
    long loss() { return outputs.address(); }
    long logps() { return outputs.address() + 4; }
    long z(LossShape shape) { return outputs.address() + 4 * (1 + shape.sequences()); }
    long chosen(LossShape shape) { return z(shape) + 4 * shape.pairs(); }
    long rejected(LossShape shape) { return z(shape) + 8 * shape.pairs(); }

    /**
     * Synchronises {@code stream}, throws a {@link DnoException} naming {@code what} if the
     * kernels flagged bad input ({@code gradients} says what became of the gradients then), and
     * reads the outputs.
     */
    DnoLossResult read(LossShape shape, long stream, String what, String gradients) {
        int[] flags = new int[1];
        NativeLibrary.check(DnoNative.dno_cuda_read_status(status.address(), stream, flags));
        if (flags[0] != 0) throw statusError(flags[0], what, gradients);
        int n = Math.toIntExact(shape.sequences()), p = Math.toIntExact(shape.pairs());
        try (PointerScope scope = new PointerScope()) {
            FloatPointer host = new FloatPointer(1 + n + 3L * p);
            outputs.copyToHost(host, 4L * (1 + n + 3L * p));
            float[] all = new float[1 + n + 3 * p];
            host.get(all);
            return unpack(all, n, p);
        }
    }

    /** loss | logps [n] | z [p] | chosen [p] | rejected [p], as the native calls write them. */
    static DnoLossResult unpack(float[] all, int n, int p) {
        return new DnoLossResult(all[0], Arrays.copyOfRange(all, 1, 1 + n), Arrays.copyOfRange(all, 1 + n, 1 + n + p),
                Arrays.copyOfRange(all, 1 + n + p, 1 + n + 2 * p), Arrays.copyOfRange(all, 1 + n + 2 * p, 1 + n + 3 * p));
    }

    private static DnoException statusError(int flags, String what, String gradients) {
        StringBuilder sb = new StringBuilder(what).append(" found bad input:");
        if ((flags & 1) != 0) sb.append(" NaN or infinite logits (at a counted position) or reference log-probs;");
        if ((flags & 2) != 0) sb.append(" a label outside [0,V) that is not the ignore index;");
        if ((flags & 4) != 0) sb.append(" a target outside [0,1];");
        sb.append(' ').append(gradients);
        DnoException.Status s = (flags & 1) != 0 ? DnoException.Status.NONFINITE
                : (flags & 2) != 0 ? DnoException.Status.LABEL_RANGE : DnoException.Status.TARGET_RANGE;
        return new DnoException(s, sb.toString());
    }

    @Override
    public void close() {
        outputs.close();
        status.close();
        hostSide.close();
    }
}
