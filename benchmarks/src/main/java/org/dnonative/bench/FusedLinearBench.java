package org.dnonative.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.FusedLinearDnoLoss;
import org.dnonative.kernel.FusedLinearOptions;
import org.dnonative.kernel.FusedLinearResult;
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
 * Forward + backward of the fused-linear DNO loss on the CPU, float32, from hidden states and
 * the lm_head (gradients for hidden and weight):
 * <ul>
 *   <li>{@code fusedNative}: {@link FusedLinearDnoLoss} (counted rows only, chunked logits,
 *       three OpenBLAS sgemm per chunk);</li>
 *   <li>{@code libtorch}: the autograd composition a PyTorch user writes: matmul(hidden, W^T),
 *       log_softmax, gather, masked sum, pairwise log-sigmoid, backward; same JVM, same threads.</li>
 * </ul>
 * A quarter of each sequence is prompt and half the sequences end in 1/8 padding (ignored labels).
 * {@code main} measures the extra resident memory of one call of each (VmHWM after resetting it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class FusedLinearBench {
    /** pairs x seqLen x hidden x vocab */
    @Param({"4x256x512x32000"})
    public String shape;

    @Param({"2"})
    public int threads;

    private LossShape lossShape;
    private long hiddenSize;
    private FloatPointer hidden, weight, gradHidden, gradWeight;
    private LongPointer labels;
    private float[] ref;
    private DnoLossOptions options;
    private Tensor hiddenT, weightT, labelsT, refT;
    FusedLinearResult last;

    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        lossShape = new LossShape(Long.parseLong(s[0]), Long.parseLong(s[1]), Long.parseLong(s[3]));
        hiddenSize = Long.parseLong(s[2]);
        int n = (int) lossShape.sequences(), t = (int) lossShape.seqLen(), v = (int) lossShape.vocab(), h = (int) hiddenSize;
        Random rnd = new Random(42);
        float[] x = new float[n * t * h], w = new float[v * h];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 2 / Math.sqrt(h));
        long[] lab = new long[n * t];
        for (int q = 0; q < n; q++)
            for (int j = 0; j < t; j++)
                lab[q * t + j] = j < t / 4 || (q % 2 == 1 && j >= t - t / 8) ? -100 : rnd.nextInt(v);
        ref = new float[n];
        for (int q = 0; q < n; q++) ref[q] = -7f * t;
        hidden = new FloatPointer(x);
        weight = new FloatPointer(w);
        gradHidden = new FloatPointer(x.length);
        gradWeight = new FloatPointer(w.length);
        labels = new LongPointer(lab);
        options = DnoLossOptions.defaults().withThreads(threads);

        torch.set_num_threads(threads);
        hiddenT = torch.from_blob(hidden, new long[] {n, t, h});
        weightT = torch.from_blob(weight, new long[] {v, h});
        labelsT = torch.from_blob(labels, new long[] {n, t}, new TensorOptions(torch.ScalarType.Long));
        refT = torch.from_blob(new FloatPointer(ref), new long[] {n}).clone();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        hidden.close();
        weight.close();
        gradHidden.close();
        gradWeight.close();
        labels.close();
    }

    @Benchmark
    public float fusedNative() {
        last = FusedLinearDnoLoss.computeAt(lossShape, hiddenSize, ElementType.FLOAT32, hidden.address(),
                weight.address(), 0, labels.address(), ElementType.INT64, ref, null, options,
                FusedLinearOptions.defaults(), gradHidden.address(), gradWeight.address(), 0);
        return last.loss();
    }

    @Benchmark
    public float libtorch() {
        Tensor h = hiddenT.detach();
        h.requires_grad_(true);
        Tensor w = weightT.detach();
        w.requires_grad_(true);
        Tensor logits = h.matmul(w.t());
        Tensor loss = TorchDnoReference.loss(logits, labelsT, refT, null, 0.1, -100, false);
        loss.backward();
        float l = loss.item_float();
        h.grad().numel();
        w.grad().numel();
        return l;
    }

    /** Extra resident memory of one call of each variant: VmHWM after a reset, minus VmRSS before. */
    public static void main(String[] args) throws IOException {
        FusedLinearBench b = new FusedLinearBench();
        b.shape = args.length > 0 ? args[0] : "4x256x512x32000";
        b.threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        b.setup();
        b.fusedNative();
        b.libtorch();  // warm both (OpenBLAS buffers, libtorch allocator)
        settle();
        long before = status("VmRSS");
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        b.fusedNative();
        long fused = status("VmHWM") - before;
        System.out.printf("fusedNative: extra peak RSS %.1f MiB (the call's own accounting: %.1f MiB, %d chunks)%n",
                fused / 1048576.0, b.last.peakBytes() / 1048576.0, b.last.chunks());
        settle();
        before = status("VmRSS");
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        b.libtorch();
        long lt = status("VmHWM") - before;
        System.out.printf("libtorch:    extra peak RSS %.1f MiB%n", lt / 1048576.0);
        b.tearDown();
    }

    /** Lets the collector free the previous call's tensors (JavaCPP deallocates them after GC). */
    private static void settle() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        throw new IllegalStateException(key + " not in /proc/self/status");
    }
}
