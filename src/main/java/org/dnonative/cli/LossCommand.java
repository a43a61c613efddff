package org.dnonative.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.dnonative.io.DType;
import org.dnonative.io.SafetensorsFile;
import org.dnonative.io.SafetensorsWriter;
import org.dnonative.io.TensorInfo;
import org.dnonative.kernel.Cuda;
import org.dnonative.kernel.CudaBuffer;
import org.dnonative.kernel.CudaDnoLoss;
import org.dnonative.kernel.CudaFusedLinearDnoLoss;
import org.dnonative.kernel.DnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.FusedLinearDnoLoss;
import org.dnonative.kernel.FusedLinearOptions;
import org.dnonative.kernel.FusedLinearResult;
import org.dnonative.kernel.Half;
import org.dnonative.kernel.LossShape;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loss}: runs the DNO loss kernel on tensors from a safetensors file and writes the
 * results to another, for parity checks against other stacks.
 */
@Command(name = "loss", mixinStandardHelpOptions = true,
        description = {"Compute the DNO loss and its gradient on tensors from a safetensors file.",
                "IN holds logits [N,T,V] (F32, BF16 or F16), labels [N,T] (I32 or I64), ref_logps [N] (F32) and "
                        + "optionally targets [P] (F32). OUT receives loss, logps [N], z [P], chosen_rewards [P], "
                        + "rejected_rewards [P] (F32) and grad_logits (the logits' shape and dtype: the gradient of the mean loss).",
                "With hidden [N,T,H] and weight [V,H] (and optionally bias [V]) instead of logits, the fused lm_head form "
                        + "runs without materialising the logits and OUT receives grad_hidden, grad_weight (and grad_bias)."})
public final class LossCommand implements Callable<Integer> {
    @Option(names = "--in", required = true, paramLabel = "IN.safetensors", description = "Input tensors.")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "OUT.safetensors", description = "Output tensors (written atomically).")
    Path out;

    @Option(names = "--beta", defaultValue = "0.1", description = "eta (beta) of the loss, > 0 (default: ${DEFAULT-VALUE}).")
    float beta;

    @Option(names = "--ignore-index", defaultValue = "-100", description = "Label of positions that do not count (default: ${DEFAULT-VALUE}).")
    long ignoreIndex;

    @Option(names = "--average", description = "Mean instead of sum of token log-probs per sequence.")
    boolean average;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() throws Exception {
        if (!device.equals("cpu") && !device.equals("cuda"))
            throw new IllegalArgumentException("--device must be cpu or cuda, got '" + device + "'");
        if (device.equals("cuda") && !Cuda.isAvailable())
            throw new IllegalArgumentException("--device cuda: no CUDA device is available here (no driver or no GPU, "
                    + "or a libdnonative built without CUDA); use --device cpu");
        DnoLossOptions options = DnoLossOptions.defaults().withBeta(beta).withIgnoreIndex(ignoreIndex).withAverage(average);
        try (SafetensorsFile f = SafetensorsFile.open(in)) {
            if (!f.contains("logits") && f.contains("hidden")) {
                fusedLinear(f, options);
                return 0;
            }
            if (!f.contains("logits"))
                throw new IllegalArgumentException(in + ": no tensor 'logits' nor 'hidden' (expected logits, labels, "
                        + "ref_logps[, targets], or hidden, weight[, bias], labels, ref_logps[, targets])");
            TensorInfo logits = f.info("logits");
            TensorInfo labels = require(f, "labels");
            if (logits.shape().length != 3)
                throw new IllegalArgumentException(in + ": tensor 'logits' must be [N,T,V], got " + Arrays.toString(logits.shape()));
            nonEmpty(logits);
            long n = logits.shape()[0], t = logits.shape()[1], v = logits.shape()[2];
            if (n % 2 != 0 || n == 0)
                throw new IllegalArgumentException(in + ": tensor 'logits' must hold an even number of sequences (chosen then rejected), got N=" + n);
            if (!Arrays.equals(labels.shape(), new long[] {n, t}))
                throw new IllegalArgumentException(in + ": tensor 'labels' must be [" + n + "," + t + "], got " + Arrays.toString(labels.shape()));
            ElementType logitsType = floatType(logits);
            ElementType labelsType = labelsType(labels);
            LossShape shape = new LossShape(n / 2, t, v);
            float[] ref = floats(f, "ref_logps", new long[] {n});
            float[] targets = f.contains("targets") ? floats(f, "targets", new long[] {n / 2}) : null;

            ByteBuffer grad = direct(logits);
            ByteBuffer x = f.data("logits"), lab = f.data("labels");
            DnoLossResult r = device.equals("cpu")
                    ? DnoLoss.compute(shape, x, logitsType, lab, labelsType, ref, targets, options, grad)
                    : onCuda(shape, x, logitsType, lab, labelsType, ref, targets, options, grad);

            requireFinite(r);
            requireFinite("grad_logits", logits.dtype(), grad);
            results(r, n)
                    .add("grad_logits", logits.dtype(), logits.shape(), grad)
                    .write(out);
            System.out.printf("loss %.6f  accuracy %.3f  margin %.4f  -> %s%n", r.loss(), r.accuracy(), r.rewardMargin(), out);
        }
        return 0;
    }

    /** hidden [N,T,H], weight [V,H], optional bias [V]: the fused lm_head form. */
    private void fusedLinear(SafetensorsFile f, DnoLossOptions options) throws Exception {
        TensorInfo hidden = f.info("hidden"), weight = require(f, "weight"), labels = require(f, "labels");
        TensorInfo bias = f.contains("bias") ? f.info("bias") : null;
        if (hidden.shape().length != 3)
            throw new IllegalArgumentException(in + ": tensor 'hidden' must be [N,T,H], got " + Arrays.toString(hidden.shape()));
        nonEmpty(hidden);
        long n = hidden.shape()[0], t = hidden.shape()[1], h = hidden.shape()[2];
        if (n % 2 != 0 || n == 0)
            throw new IllegalArgumentException(in + ": tensor 'hidden' must hold an even number of sequences (chosen then rejected), got N=" + n);
        if (weight.shape().length != 2 || weight.shape()[1] != h)
            throw new IllegalArgumentException(in + ": tensor 'weight' must be [V," + h + "], got " + Arrays.toString(weight.shape()));
        nonEmpty(weight);
        long v = weight.shape()[0];
        if (bias != null && !Arrays.equals(bias.shape(), new long[] {v}))
            throw new IllegalArgumentException(in + ": tensor 'bias' must be [" + v + "], got " + Arrays.toString(bias.shape()));
        if (!Arrays.equals(labels.shape(), new long[] {n, t}))
            throw new IllegalArgumentException(in + ": tensor 'labels' must be [" + n + "," + t + "], got " + Arrays.toString(labels.shape()));
        ElementType dtype = floatType(hidden);
        for (TensorInfo x : new TensorInfo[] {weight, bias})
            if (x != null && x.dtype() != hidden.dtype())
                throw new IllegalArgumentException(in + ": tensor '" + x.name() + "' must have hidden's dtype " + hidden.dtype() + ", got " + x.dtype());
        LossShape shape = new LossShape(n / 2, t, v);
        float[] ref = floats(f, "ref_logps", new long[] {n});
        float[] targets = f.contains("targets") ? floats(f, "targets", new long[] {n / 2}) : null;
        ByteBuffer gh = direct(hidden), gw = direct(weight);
        ByteBuffer gb = bias == null ? null : direct(bias);
        ByteBuffer hb = f.data("hidden"), wb = f.data("weight"), lb = f.data("labels");
        ByteBuffer bb = bias == null ? null : f.data("bias");
        FusedLinearResult fr = device.equals("cpu")
                ? FusedLinearDnoLoss.computeAt(shape, h, dtype, addr(hb), addr(wb), bb == null ? 0 : addr(bb), addr(lb),
                        labelsType(labels), ref, targets, options, FusedLinearOptions.defaults(), addr(gh), addr(gw),
                        gb == null ? 0 : addr(gb))
                : onCudaFused(shape, h, dtype, hb, wb, bb, lb, labelsType(labels), ref, targets, options, gh, gw, gb);
        DnoLossResult r = fr.result();
        requireFinite(r);
        requireFinite("grad_hidden", hidden.dtype(), gh);
        requireFinite("grad_weight", weight.dtype(), gw);
        if (gb != null) requireFinite("grad_bias", bias.dtype(), gb);
        SafetensorsWriter w = results(r, n)
                .add("grad_hidden", hidden.dtype(), hidden.shape(), gh)
                .add("grad_weight", weight.dtype(), weight.shape(), gw);
        if (gb != null) w.add("grad_bias", bias.dtype(), bias.shape(), gb);
        w.write(out);
        System.out.printf("loss %.6f  accuracy %.3f  margin %.4f  (fused lm_head: %d chunks, peak %.1f MiB) -> %s%n",
                r.loss(), r.accuracy(), r.rewardMargin(), fr.chunks(), fr.peakBytes() / 1048576.0, out);
    }

    /** No zero dimension: a zero-element tensor is a valid file, but its other dimensions would size the buffers. */
    private void nonEmpty(TensorInfo t) {
        for (long d : t.shape())
            if (d == 0) throw new IllegalArgumentException(in + ": tensor '" + t.name() + "' " + Arrays.toString(t.shape()) + " has a zero dimension");
    }

    private SafetensorsWriter results(DnoLossResult r, long n) {
        return new SafetensorsWriter()
                .metadata("producer", "dno-native loss")
                .metadata("beta", Float.toString(beta))
                .add("loss", new float[] {r.loss()}, new long[] {}, DType.F32)
                .add("logps", r.logps(), new long[] {n}, DType.F32)
                .add("z", r.z(), new long[] {n / 2}, DType.F32)
                .add("chosen_rewards", r.chosenRewards(), new long[] {n / 2}, DType.F32)
                .add("rejected_rewards", r.rejectedRewards(), new long[] {n / 2}, DType.F32);
    }

    /** A buffer for the gradient of {@code t}: its size, which one Java buffer must hold. */
    private ByteBuffer direct(TensorInfo t) {
        if (t.byteLength() > Integer.MAX_VALUE)
            throw new IllegalArgumentException(in + ": tensor '" + t.name() + "' " + t + " is " + t.byteLength()
                    + " bytes; this command handles tensors up to 2 GiB");
        return ByteBuffer.allocateDirect((int) t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Finite inputs can still give a non-finite result (logits near the float32 limit overflow the
     * log-sum-exp): that is an error, never an output, so OUT is not written.
     */
    private void requireFinite(DnoLossResult r) {
        requireFinite("loss", new float[] {r.loss()});
        requireFinite("logps", r.logps());
        requireFinite("z", r.z());
        requireFinite("chosen_rewards", r.chosenRewards());
        requireFinite("rejected_rewards", r.rejectedRewards());
    }

    private void requireFinite(String tensor, float[] v) {
        for (int i = 0; i < v.length; i++) if (!Float.isFinite(v[i])) notFinite(tensor, i, v[i]);
    }

    private void requireFinite(String tensor, DType dtype, ByteBuffer b) {
        long n = b.capacity() / dtype.byteSize();
        for (int i = 0; i < n; i++) {
            float v = switch (dtype) {
                case F32 -> b.getFloat(4 * i);
                case BF16 -> Half.bf16ToFloat(b.getShort(2 * i));
                default -> Half.f16ToFloat(b.getShort(2 * i));
            };
            if (!Float.isFinite(v)) notFinite(tensor, i, v);
        }
    }

    private void notFinite(String tensor, int index, float v) {
        throw new IllegalArgumentException(in + ": the result is not finite: " + tensor + "[" + index + "] = " + v
                + " (the input tensors are finite but too large for the loss in float32, e.g. logits near 1e38); "
                + out + " was not written");
    }

    private static long addr(ByteBuffer b) {
        return new Pointer(b).address();
    }

    private ElementType floatType(TensorInfo t) {
        return switch (t.dtype()) {
            case F32 -> ElementType.FLOAT32;
            case BF16 -> ElementType.BFLOAT16;
            case F16 -> ElementType.FLOAT16;
            default -> throw new IllegalArgumentException(in + ": tensor '" + t.name() + "' must be F32, BF16 or F16, got " + t.dtype());
        };
    }

    private ElementType labelsType(TensorInfo t) {
        return switch (t.dtype()) {
            case I32 -> ElementType.INT32;
            case I64 -> ElementType.INT64;
            default -> throw new IllegalArgumentException(in + ": tensor 'labels' must be I32 or I64, got " + t.dtype());
        };
    }

    private static TensorInfo require(SafetensorsFile f, String name) throws Exception {
        if (!f.contains(name)) throw new IllegalArgumentException(f.path() + ": no tensor '" + name + "'");
        return f.info(name);
    }

    private static float[] floats(SafetensorsFile f, String name, long[] shape) throws Exception {
        TensorInfo info = require(f, name);
        if (info.dtype() != DType.F32)
            throw new IllegalArgumentException(f.path() + ": tensor '" + name + "' must be F32, got " + info.dtype());
        if (!Arrays.equals(info.shape(), shape))
            throw new IllegalArgumentException(f.path() + ": tensor '" + name + "' must be " + Arrays.toString(shape) + ", got " + Arrays.toString(info.shape()));
        return f.readFloats(name);
    }

    /** Uploads the fused-linear inputs, runs the CUDA loss, downloads the gradients into gh, gw (and gb). */
    private static FusedLinearResult onCudaFused(LossShape shape, long hiddenSize, ElementType dtype, ByteBuffer hidden,
                                                 ByteBuffer weight, ByteBuffer bias, ByteBuffer labels,
                                                 ElementType labelsType, float[] ref, float[] targets,
                                                 DnoLossOptions options, ByteBuffer gh, ByteBuffer gw, ByteBuffer gb) {
        try (CudaBuffer dh = upload(hidden); CudaBuffer dw = upload(weight); CudaBuffer db = upload(bias);
             CudaBuffer dl = upload(labels); CudaBuffer dgh = new CudaBuffer(gh.capacity());
             CudaBuffer dgw = new CudaBuffer(gw.capacity()); CudaBuffer dgb = gb == null ? null : new CudaBuffer(gb.capacity());
             CudaFusedLinearDnoLoss loss = new CudaFusedLinearDnoLoss(shape.pairs())) {
            FusedLinearResult stats = loss.enqueue(shape, hiddenSize, dtype, dh.address(), dw.address(),
                    db == null ? 0 : db.address(), dl.address(), labelsType, ref, targets, options,
                    FusedLinearOptions.defaults(), dgh.address(), dgw.address(), dgb == null ? 0 : dgb.address(), 0);
            DnoLossResult r = loss.result(0);
            dgh.copyToHost(new BytePointer(gh), gh.capacity());
            dgw.copyToHost(new BytePointer(gw), gw.capacity());
            if (dgb != null) dgb.copyToHost(new BytePointer(gb), gb.capacity());
            return new FusedLinearResult(r, stats.peakBytes(), stats.chunks(), stats.gemms(), stats.twoPassPairs());
        }
    }

    private static CudaBuffer upload(ByteBuffer host) {
        return host == null ? null : new CudaBuffer(host.remaining()).copyFromHost(new Pointer(host), host.remaining());
    }

    private static DnoLossResult onCuda(LossShape shape, ByteBuffer logits, ElementType logitsType, ByteBuffer labels,
                                        ElementType labelsType, float[] ref, float[] targets, DnoLossOptions options,
                                        ByteBuffer grad) {
        try (CudaBuffer dx = upload(logits); CudaBuffer dl = upload(labels);
             CudaDnoLoss loss = new CudaDnoLoss(shape.pairs(), shape.seqLen())) {
            DnoLossResult r = loss.compute(shape, dx.address(), logitsType, dl.address(), labelsType, ref, targets,
                    options, dx.address(), 0);
            dx.copyToHost(new BytePointer(grad), grad.capacity());
            return r;
        }
    }
}
