import java.util.Arrays;
import java.util.Random;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.dnonative.kernel.Cuda;
import org.dnonative.kernel.CudaBuffer;
import org.dnonative.kernel.CudaDnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.kernel.ElementType;
import org.dnonative.kernel.LossShape;

/**
 * Times forward + backward of the CUDA DNO loss on raw device pointers (bf16 logits, gradient
 * in place), at the shapes of ../shared/bench/gpu_peers.py: a quarter of each sequence is prompt,
 * half the sequences end in 1/8 padding. Prints one line per shape:
 *   shape N T V  median_ms min_ms max_ms  extra_device_bytes
 * Run by benchmarks/gpu/check.sh on the GPU machine: {@code GpuLossTiming [reps]}. With
 * {@code --smoke} it runs tiny shapes once, so that the program itself can be tried on the CPU
 * emulation of CUDA before GPU time is spent on it.
 */
public final class GpuLossTiming {
    public static void main(String[] args) {
        if (!Cuda.isAvailable()) throw new IllegalStateException("no CUDA device");
        boolean smoke = args.length > 0 && args[0].equals("--smoke");
        int reps = smoke ? 2 : args.length > 0 ? Integer.parseInt(args[0]) : 20;
        long[][] shapes = smoke ? new long[][] {{4, 40, 1031}, {4, 24, 20011}}
                : new long[][] {{8, 512, 32000}, {16, 1024, 32000}, {16, 1024, 128256}};
        String[] names = smoke ? new String[] {"smoke-1", "smoke-2"} : new String[] {"S", "M", "L"};
        for (int s = 0; s < shapes.length; s++) {
            long n = shapes[s][0], t = shapes[s][1], v = shapes[s][2];
            LossShape shape = new LossShape(n / 2, t, v);
            long bytes = shape.logitElements() * 2;
            try (CudaBuffer logits = new CudaBuffer(bytes); CudaBuffer labels = new CudaBuffer(8 * n * t);
                 CudaDnoLoss loss = new CudaDnoLoss(n / 2, t)) {
                fillRandomBf16(logits, bytes, 1234 + s);
                uploadLabels(labels, n, t, v, 99);
                float[] ref = new float[(int) n];
                Arrays.fill(ref, -7f * t);
                DnoLossOptions o = DnoLossOptions.defaults();
                DnoLossResult first = loss.compute(shape, logits.address(), ElementType.BFLOAT16, labels.address(),
                        ElementType.INT64, ref, null, o, 0, 0);  // forward only: logits stay intact
                double[] ms = new double[reps];
                for (int w = 0; w < 3; w++)
                    loss.compute(shape, logits.address(), ElementType.BFLOAT16, labels.address(), ElementType.INT64,
                            ref, null, o, logits.address(), 0);
                for (int r = 0; r < reps; r++) {
                    long t0 = System.nanoTime();
                    loss.enqueue(shape, logits.address(), ElementType.BFLOAT16, labels.address(), ElementType.INT64,
                            ref, null, o, logits.address(), 0);
                    Cuda.synchronize(0);
                    ms[r] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(ms);
                long extra = CudaDnoLoss.workspaceBytes(n, t) + 4 * (1 + n + 3 * (n / 2)) + 4 + 4 * (n + n / 2);
                System.out.printf("%s %d %d %d  %.3f %.3f %.3f  %d  loss=%.5f%n", names[s], n, t, v, ms[reps / 2], ms[0],
                        ms[reps - 1], extra, first.loss());
            }
        }
        if (smoke) fusedLinear("fused-smoke", 4, 40, 48, 1031, reps);
        else fusedLinear("fused-L", 16, 1024, 4096, 128256, Math.max(3, reps / 4));
    }

    /** The fused lm_head loss (shape L: N=16, T=1024, H=4096, V=128256, bf16), all three gradients. */
    static void fusedLinear(String name, long n, long t, long h, long v, int reps) {
        LossShape shape = new LossShape(n / 2, t, v);
        try (CudaBuffer hidden = new CudaBuffer(2 * n * t * h); CudaBuffer weight = new CudaBuffer(2 * v * h);
             CudaBuffer gh = new CudaBuffer(2 * n * t * h); CudaBuffer gw = new CudaBuffer(2 * v * h);
             CudaBuffer labels = new CudaBuffer(8 * n * t);
             org.dnonative.kernel.CudaFusedLinearDnoLoss loss = new org.dnonative.kernel.CudaFusedLinearDnoLoss(n / 2)) {
            fillRandomBf16(hidden, 2 * n * t * h, 7);
            fillRandomBf16(weight, 2 * v * h, 8);  // N(0,2) weights: large logits, a hard case for the softmax
            uploadLabels(labels, n, t, v, 5);
            float[] ref = new float[(int) n];
            Arrays.fill(ref, -7f * t);
            DnoLossOptions o = DnoLossOptions.defaults();
            org.dnonative.kernel.FusedLinearOptions f = org.dnonative.kernel.FusedLinearOptions.defaults();
            double[] ms = new double[reps];
            long peak = 0;
            DnoLossResult r = null;
            Cuda.synchronize(0);
            Cuda.asyncPoolPeakBytes(true);
            for (int i = -1; i < reps; i++) {
                long t0 = System.nanoTime();
                var stats = loss.enqueue(shape, h, ElementType.BFLOAT16, hidden.address(), weight.address(), 0,
                        labels.address(), ElementType.INT64, ref, null, o, f, gh.address(), gw.address(), 0, 0);
                r = loss.result(0);
                if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
                peak = stats.peakBytes();
            }
            Arrays.sort(ms);
            long measured = Cuda.asyncPoolPeakBytes(false);  // the workspace, as the CUDA runtime counted it
            System.out.printf("%s %d %d %d %d  %.3f %.3f %.3f  %d  loss=%.5f planned_bytes=%d%n", name, n, t, h, v,
                    ms[reps / 2], ms[0], ms[reps - 1], measured, r.loss(), peak);
        }
    }

    /** Labels as in gpu_peers.py: a quarter of each sequence is prompt, half the sequences end in 1/8 padding. */
    static void uploadLabels(CudaBuffer labels, long n, long t, long v, long seed) {
        long[] lab = new long[(int) (n * t)];
        Random rnd = new Random(seed);
        for (int q = 0; q < n; q++)
            for (int j = 0; j < t; j++)
                lab[(int) (q * t + j)] = j < t / 4 || (q % 2 == 1 && j >= t - t / 8) ? -100 : rnd.nextInt((int) v);
        labels.copyFromHost(new LongPointer(lab), 8L * lab.length);
    }

    /** Random bf16 values (N(0, 2)): one block of at most 64 MiB of fresh values, uploaded over the whole buffer. */
    static void fillRandomBf16(CudaBuffer buf, long bytes, long seed) {
        Random rnd = new Random(seed);
        int block = (int) Math.min(32 << 20, bytes / 2);  // elements
        short[] h = new short[block];
        for (int i = 0; i < block; i++) {
            int bits = Float.floatToRawIntBits((float) rnd.nextGaussian() * 2);
            h[i] = (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
        }
        try (ShortPointer p = new ShortPointer(h)) {
            for (long done = 0; done < bytes; done += 2L * block)
                buf.copyFromHost(p, done, Math.min(2L * block, bytes - done));
        }
    }

}
