package org.dnonative.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_full;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.SmallLinear;
import org.dnonative.model.Tensors;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The decode step's product y = x W^T in float32, on one thread:
 * <ul>
 *   <li>{@code smallLinear}: {@link SmallLinear} (the weight streamed once, no packing), as the
 *       policy runs it while sampling;</li>
 *   <li>{@code libtorchLinear}: {@code torch.linear} of the same tensors (OpenBLAS, one thread), what
 *       the policy ran before.</li>
 * </ul>
 * Shapes: rows x in x out; 8 rows is one sampling batch (2 prompts x K=4); [32000, 512] is the
 * bench model's tied lm_head, [1376, 512] and [512, 1376] its MLP.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class SmallLinearBench {
    @Param({"8x512x32000", "8x512x1376", "8x1376x512", "1x512x32000", "16x512x32000"})
    public String shape;

    private Tensor x, w, wBf16, y;
    private long rows, in, out;

    @Setup(Level.Trial)
    public void setup() {
        torch.set_num_threads(1);
        Loader.load(openblas_full.class);
        openblas_full.openblas_set_num_threads(1);
        String[] s = shape.split("x");
        rows = Long.parseLong(s[0]);
        in = Long.parseLong(s[1]);
        out = Long.parseLong(s[2]);
        Random rnd = new Random(7);
        float[] xs = new float[(int) (rows * in)], ws = new float[(int) (out * in)];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < ws.length; i++) ws[i] = (float) (rnd.nextGaussian() / Math.sqrt(in));
        x = Tensors.fromFloats(xs, rows, in);
        w = Tensors.fromFloats(ws, out, in);
        y = Tensors.fromFloats(new float[(int) (rows * out)], rows, out);
        wBf16 = w.to(torch.ScalarType.BFloat16).contiguous();
    }

    @Benchmark
    public Tensor smallLinear() {
        SmallLinear.apply(rows, in, out, x.data_ptr().address(), in, w.data_ptr().address(), 0, y.data_ptr().address(), 1);
        return y;
    }

    /** The same kernel reading the weight's bf16 copy (widened exactly; float32 products and sums). */
    @Benchmark
    public Tensor smallLinearBf16Weights() {
        SmallLinear.apply(rows, in, out, x.data_ptr().address(), in, org.dnonative.kernel.ElementType.BFLOAT16,
                wBf16.data_ptr().address(), 0, y.data_ptr().address(), 1);
        return y;
    }

    @Benchmark
    public Tensor libtorchLinear() {
        Tensor r = torch.linear(x, w);
        r.close();
        return y;
    }
}
