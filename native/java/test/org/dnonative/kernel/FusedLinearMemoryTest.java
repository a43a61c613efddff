package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;

/**
 * Peak extra memory of the fused-linear CPU loss stays under the budget as N and T grow:
 * both the call's own accounting and the process's resident-set high-water mark (VmHWM, reset
 * through /proc/self/clear_refs just before the call) are measured, with inputs and outputs in
 * native memory allocated beforehand.
 */
class FusedLinearMemoryTest {
    private static final int H = 64, V = 4096;
    private static final long MIB = 1 << 20;

    @Test
    void peakStaysUnderTheBudgetAsNAndTGrow() throws IOException {
        long budget = 24 * MIB;
        long previousChunks = 0;
        for (int[] pt : new int[][] {{2, 64}, {4, 256}, {8, 512}}) {
            Measured m = measure(pt[0], pt[1], budget);
            long logitBytes = 4L * m.countedRows * V;
            String what = "P=" + pt[0] + " T=" + pt[1] + " seed=" + m.seed + " (" + m.countedRows + " counted rows, their logits "
                    + logitBytes / MIB + " MiB): accounted " + m.result.peakBytes() / MIB + " MiB, measured "
                    + m.rssDelta / MIB + " MiB, " + m.result.chunks() + " chunks";
            System.out.println("fused-linear memory: " + what);
            assertTrue(m.result.peakBytes() <= budget, what);
            // The resident high-water mark also holds whatever else the JVM touched meanwhile.
            assertTrue(m.rssDelta <= budget + 16 * MIB, what);
            assertTrue(m.result.chunks() >= previousChunks, what);
            previousChunks = m.result.chunks();
        }
        assertTrue(previousChunks > 1, "the largest case must need several chunks");
        // The same measurement sees the logits when the budget lets them all in at once.
        Measured whole = measure(8, 512, 1L << 30);
        long logitBytes = 4L * whole.countedRows * V;
        assertTrue(whole.result.chunks() == 1 && whole.rssDelta >= logitBytes / 2,
                "unchunked, seed=" + whole.seed + ": measured " + whole.rssDelta / MIB + " MiB for " + logitBytes / MIB + " MiB of logits");
    }

    record Measured(FusedLinearResult result, long rssDelta, long countedRows, long seed) {}

    private static Measured measure(int pairs, int seqLen, long budget) throws IOException {
        int n = 2 * pairs;
        long seed = CaseSeed.of("FusedLinearMemoryTest", pairs, seqLen);
        Random rnd = new Random(seed);
        LossShape shape = new LossShape(pairs, seqLen, V);
        float[] x = new float[n * seqLen * H], w = new float[V * H];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() / 8);
        long[] lab = new long[n * seqLen];
        long counted = 0;
        for (int q = 0; q < n; q++)
            for (int t = 0; t < seqLen; t++) {
                boolean c = t >= seqLen / 4 && !(q % 2 == 1 && t >= seqLen - seqLen / 8);
                lab[q * seqLen + t] = c ? rnd.nextInt(V) : RandomCase.IGNORE;
                if (c) counted++;
            }
        float[] ref = new float[n];
        for (int q = 0; q < n; q++) ref[q] = -8f * seqLen;
        try (FloatPointer hp = new FloatPointer(x); FloatPointer wp = new FloatPointer(w);
             LongPointer lp = new LongPointer(lab); FloatPointer gh = new FloatPointer(x.length);
             FloatPointer gw = new FloatPointer(w.length)) {
            FusedLinearOptions f = FusedLinearOptions.defaults().withMemoryBudget(budget);
            DnoLossOptions o = DnoLossOptions.defaults().withThreads(2);
            // Warm-up: BLAS buffers and thread pools exist before the measured call.
            FusedLinearDnoLoss.computeAt(shape, H, ElementType.FLOAT32, hp.address(), wp.address(), 0, lp.address(),
                    ElementType.INT64, ref, null, o, f, gh.address(), gw.address(), 0);
            System.gc();
            long before = status("VmRSS");
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            FusedLinearResult r = FusedLinearDnoLoss.computeAt(shape, H, ElementType.FLOAT32, hp.address(),
                    wp.address(), 0, lp.address(), ElementType.INT64, ref, null, o, f, gh.address(), gw.address(), 0);
            long peak = status("VmHWM");
            return new Measured(r, peak - before, counted, seed);
        }
    }

    private static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        throw new IllegalStateException(key + " not in /proc/self/status");
    }
}
