package org.dnonative.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.DnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.LossShape;
import org.dnonative.torch.TorchDnoReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Forward + backward of the logits-level DNO loss on the CPU, float32:
 * <ul>
 *   <li>{@code dnoNative}: our fused kernel (loss, logps, z and the gradient in one call);</li>
 *   <li>{@code libtorch}: the same loss composed from libtorch ops (log_softmax, gather, masked sum,
 *       log-sigmoid) with autograd backward, in the same JVM with the same thread count;</li>
 *   <li>{@code memcpyLogits}: one copy of the logits (one read + one write of N*T*V floats), the
 *       bandwidth yardstick: reading twice and writing once costs about 1.5 times this.</li>
 * </ul>
 * A quarter of each sequence is prompt and half the sequences end in 1/8 padding (ignored labels).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g"})
public class LossKernelBench {
    /** pairs x seqLen x vocab */
    @Param({"4x256x32000", "2x128x128256"})
    public String shape;

    @Param({"2"})
    public int threads;

    private LossShape lossShape;
    private FloatPointer logits, grad;
    private LongPointer labels;
    private float[] ref;
    private DnoLossOptions options;
    private Tensor logitsT, labelsT, refT;

    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        lossShape = new LossShape(Long.parseLong(s[0]), Long.parseLong(s[1]), Long.parseLong(s[2]));
        int n = (int) lossShape.sequences(), t = (int) lossShape.seqLen(), v = (int) lossShape.vocab();
        Random rnd = new Random(42);
        float[] x = new float[Math.toIntExact(lossShape.logitElements())];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * 2;
        long[] lab = new long[n * t];
        for (int q = 0; q < n; q++)
            for (int j = 0; j < t; j++)
                lab[q * t + j] = j < t / 4 || (q % 2 == 1 && j >= t - t / 8) ? -100 : rnd.nextInt(v);
        ref = new float[n];
        for (int q = 0; q < n; q++) ref[q] = -7f * t;
        logits = new FloatPointer(x);
        grad = new FloatPointer(x.length);
        labels = new LongPointer(lab);
        options = DnoLossOptions.defaults().withThreads(threads);

        torch.set_num_threads(threads);
        logitsT = torch.from_blob(logits, new long[] {n, t, v});
        labelsT = torch.from_blob(labels, new long[] {n, t}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long));
        refT = torch.from_blob(new FloatPointer(ref), new long[] {n}).clone();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        logits.close();
        grad.close();
        labels.close();
    }

    @Benchmark
    public float dnoNative() {
        return DnoLoss.compute(lossShape, logits, ElementType.FLOAT32, labels, ElementType.INT64, ref, null, options, grad).loss();
    }

    @Benchmark
    public float libtorch() {
        Tensor leaf = logitsT.detach();
        leaf.requires_grad_(true);
        Tensor loss = TorchDnoReference.loss(leaf, labelsT, refT, null, 0.1, -100, false);
        loss.backward();
        float l = loss.item_float();
        leaf.grad().numel();
        return l;
    }

    @Benchmark
    public Pointer memcpyLogits() {
        return Pointer.memcpy(grad, logits, lossShape.logitElements() * 4);
    }
}
