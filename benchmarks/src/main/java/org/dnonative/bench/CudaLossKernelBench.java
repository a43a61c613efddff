package org.dnonative.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.dnonative.kernel.Cuda;
import org.dnonative.kernel.CudaBuffer;
import org.dnonative.kernel.CudaDnoLoss;
import org.dnonative.kernel.CudaFusedLinearDnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.FusedLinearOptions;
import org.dnonative.kernel.LossShape;
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
 * The CUDA kernels on raw device pointers, bf16, on the default stream; each call is launched
 * and synchronised:
 * <ul>
 *   <li>{@code logitsLoss}: the logits-level loss, forward + backward, gradient in place;</li>
 *   <li>{@code fusedLinearLoss}: the fused lm_head loss from hidden states, with grad_hidden and
 *       grad_weight, under the default 1 GiB budget.</li>
 * </ul>
 * Shapes follow ../shared/bench/gpu_peers.py (a quarter of each sequence prompt, half the
 * sequences end in 1/8 padding): {@code N x T x V x H}. Needs a CUDA device: without one the
 * setup fails and JMH reports the benchmark as failed. On a GPU machine without Java,
 * benchmarks/gpu/check.sh times the same calls.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g"})
public class CudaLossKernelBench {
    /** sequences x seqLen x vocab x hidden */
    @Param({"8x512x32000x2048", "16x1024x32000x4096", "16x1024x128256x4096"})
    public String shape;

    private LossShape lossShape;
    private long hiddenSize;
    private CudaBuffer logits, labels, hidden, weight, gradHidden, gradWeight;
    private CudaDnoLoss loss;
    private CudaFusedLinearDnoLoss fused;
    private float[] ref;
    private final DnoLossOptions options = DnoLossOptions.defaults();

    @Setup(Level.Trial)
    public void setup() {
        if (!Cuda.isAvailable()) throw new IllegalStateException("CudaLossKernelBench needs a CUDA device");
        String[] s = shape.split("x");
        long n = Long.parseLong(s[0]), t = Long.parseLong(s[1]), v = Long.parseLong(s[2]);
        hiddenSize = Long.parseLong(s[3]);
        lossShape = new LossShape(n / 2, t, v);
        logits = randomBf16(lossShape.logitElements(), 1);
        hidden = randomBf16(n * t * hiddenSize, 2);
        weight = randomBf16(v * hiddenSize, 3);
        gradHidden = new CudaBuffer(2 * n * t * hiddenSize);
        gradWeight = new CudaBuffer(2 * v * hiddenSize);
        long[] lab = new long[Math.toIntExact(n * t)];
        Random rnd = new Random(4);
        for (int q = 0; q < n; q++)
            for (int j = 0; j < t; j++)
                lab[(int) (q * t + j)] = j < t / 4 || (q % 2 == 1 && j >= t - t / 8) ? -100 : rnd.nextInt((int) v);
        labels = new CudaBuffer(8L * lab.length).copyFromHost(new LongPointer(lab), 8L * lab.length);
        ref = new float[(int) n];
        java.util.Arrays.fill(ref, -7f * t);
        loss = new CudaDnoLoss(n / 2, t);
        fused = new CudaFusedLinearDnoLoss(n / 2);
    }

    /** N(0, 2) bf16 values from one block of at most 64 MiB, repeated over the buffer. */
    private static CudaBuffer randomBf16(long elements, long seed) {
        CudaBuffer b = new CudaBuffer(2 * elements);
        int block = (int) Math.min(32L << 20, elements);
        short[] h = new short[block];
        Random rnd = new Random(seed);
        for (int i = 0; i < block; i++) {
            int bits = Float.floatToRawIntBits((float) rnd.nextGaussian() * 2);
            h[i] = (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
        }
        try (ShortPointer p = new ShortPointer(h)) {
            for (long done = 0; done < elements; done += block) {
                long count = Math.min(block, elements - done);
                b.copyFromHost(p, 2 * done, 2 * count);
            }
        }
        return b;
    }

    @Benchmark
    public float logitsLoss() {
        return loss.compute(lossShape, logits.address(), ElementType.BFLOAT16, labels.address(), ElementType.INT64, ref,
                null, options, logits.address(), 0).loss();
    }

    @Benchmark
    public float fusedLinearLoss() {
        fused.enqueue(lossShape, hiddenSize, ElementType.BFLOAT16, hidden.address(), weight.address(), 0,
                labels.address(), ElementType.INT64, ref, null, options, FusedLinearOptions.defaults(),
                gradHidden.address(), gradWeight.address(), 0, 0);
        return fused.result(0).loss();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (AutoCloseable c : new AutoCloseable[] {loss, fused, logits, labels, hidden, weight, gradHidden, gradWeight}) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
