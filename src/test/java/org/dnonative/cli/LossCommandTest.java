package org.dnonative.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.dnonative.io.DType;
import org.dnonative.kernel.Half;
import org.dnonative.io.SafetensorsFile;
import org.dnonative.io.SafetensorsWriter;
import org.dnonative.kernel.DnoLoss;
import org.dnonative.kernel.DnoLossOptions;
import org.dnonative.kernel.DnoLossResult;
import org.dnonative.kernel.LossShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

class LossCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void writesLossLogpsZAndBf16GradientMatchingTheApi() throws Exception {
        int p = 2, t = 7, v = 65, n = 2 * p;
        long seed = 0x1055_0001L;
        String what = "P=" + p + " T=" + t + " V=" + v + " bf16 seed=" + seed;
        Random rnd = new Random(seed);
        float[] x = new float[n * t * v];
        ByteBuffer bf = ByteBuffer.allocate(2 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        short[] raw = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            raw[i] = Half.floatToBf16((float) rnd.nextGaussian() * 2);
            bf.putShort(raw[i]);
        }
        bf.flip();
        long[] labels = new long[n * t];
        for (int i = 0; i < labels.length; i++) labels[i] = i % t < 2 ? -100 : rnd.nextInt(v);
        float[] ref = new float[n];
        for (int i = 0; i < n; i++) ref[i] = (float) (-20 + rnd.nextGaussian());
        float[] targets = {0.9f, 0.3f};
        Path in = dir.resolve("in.safetensors"), out = dir.resolve("out.safetensors");
        new SafetensorsWriter().add("logits", DType.BF16, new long[] {n, t, v}, bf)
                .add("labels", labels, new long[] {n, t})
                .add("ref_logps", ref, new long[] {n}, DType.F32)
                .add("targets", targets, new long[] {p}, DType.F32)
                .write(in);

        Run r = run("loss", "--in", in.toString(), "--out", out.toString(), "--beta", "0.2", "--average");
        assertEquals(0, r.code, what + ": " + r.err);

        short[] grad = new short[raw.length];
        DnoLossResult want = DnoLoss.compute(new LossShape(p, t, v), raw, org.dnonative.kernel.ElementType.BFLOAT16,
                labels, ref, targets, DnoLossOptions.defaults().withBeta(0.2f).withAverage(true), grad);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(want.loss(), f.readFloats("loss")[0], what + ": loss");
            assertEquals(DType.BF16, f.info("grad_logits").dtype(), what);
            assertEquals(3, f.info("grad_logits").shape().length, what);
            float[] logps = f.readFloats("logps"), z = f.readFloats("z");
            for (int i = 0; i < n; i++) assertEquals(want.logps()[i], logps[i], what + ": logps " + i);
            for (int i = 0; i < p; i++) assertEquals(want.z()[i], z[i], what + ": z " + i);
            ByteBuffer g = f.data("grad_logits");
            for (int i = 0; i < grad.length; i++) assertEquals(grad[i], g.getShort(2 * i), what + ": grad " + i);
        }
    }

    /**
     * {@code --ignore-index -1}: positions labelled -1 count for nothing, bitwise as the API with
     * that ignore index computes it, and the file's -1 labels need not be rewritten to -100.
     * Under it a label of -100 is out of range: exit code 2, naming the position, nothing written.
     */
    @Test
    void ignoreIndexOptionIsPassedToTheKernel() throws Exception {
        int p = 2, t = 9, v = 41, n = 2 * p;
        long seed = 0x1055_0003L;
        String what = "P=" + p + " T=" + t + " V=" + v + " f32 seed=" + seed;
        Random rnd = new Random(seed);
        float[] x = new float[n * t * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * 2;
        long[] labels = new long[n * t];
        for (int i = 0; i < labels.length; i++) labels[i] = i % t < 3 ? -1 : rnd.nextInt(v);
        float[] ref = new float[n];
        for (int i = 0; i < n; i++) ref[i] = (float) (-25 + rnd.nextGaussian());
        Path in = dir.resolve("ignore.safetensors"), out = dir.resolve("ignore-out.safetensors");
        new SafetensorsWriter().add("logits", x, new long[] {n, t, v}, DType.F32)
                .add("labels", labels, new long[] {n, t})
                .add("ref_logps", ref, new long[] {n}, DType.F32)
                .write(in);

        Run r = run("loss", "--in", in.toString(), "--out", out.toString(), "--ignore-index", "-1");
        assertEquals(0, r.code, what + ": " + r.err);
        float[] grad = new float[x.length];
        DnoLossResult want = DnoLoss.compute(new LossShape(p, t, v), x, labels, ref, null,
                DnoLossOptions.defaults().withIgnoreIndex(-1), grad);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(want.loss(), f.readFloats("loss")[0], what + ": loss");
            float[] logps = f.readFloats("logps"), g = f.readFloats("grad_logits");
            for (int i = 0; i < n; i++) assertEquals(want.logps()[i], logps[i], what + ": logps " + i);
            for (int i = 0; i < grad.length; i++) assertEquals(grad[i], g[i], what + ": grad " + i);
            for (int row = 0; row < labels.length; row++)
                if (labels[row] == -1)
                    for (int k = 0; k < v; k++) assertEquals(0f, g[row * v + k], what + ": grad of ignored row " + row);
        }

        // The default ignore index does not know -1: the same file fails, naming the first -1 label.
        Path out2 = dir.resolve("default-out.safetensors");
        Run d = run("loss", "--in", in.toString(), "--out", out2.toString());
        assertEquals(2, d.code, what + ": " + d.err);
        assertTrue(d.err.contains("labels[0,0]") && d.err.contains("-1"), what + ": " + d.err);
        assertFalse(Files.exists(out2), what + ": nothing is written on failure");

        // And under --ignore-index -1, a label of -100 is just out of range.
        labels[1 * t + 5] = -100;
        Path bad = dir.resolve("minus100.safetensors"), out3 = dir.resolve("minus100-out.safetensors");
        new SafetensorsWriter().add("logits", x, new long[] {n, t, v}, DType.F32)
                .add("labels", labels, new long[] {n, t})
                .add("ref_logps", ref, new long[] {n}, DType.F32)
                .write(bad);
        Run m = run("loss", "--in", bad.toString(), "--out", out3.toString(), "--ignore-index", "-1");
        assertEquals(2, m.code, what + ": " + m.err);
        assertTrue(m.err.contains("labels[1,5]") && m.err.contains("-100"), what + ": " + m.err);
        assertFalse(m.err.contains("at org."), what + ": no stack trace for a bad label: " + m.err);
        assertFalse(Files.exists(out3), what + ": nothing is written on failure");
    }

    @Test
    void hiddenAndWeightRunTheFusedLmHeadForm() throws Exception {
        int p = 2, t = 6, h = 9, v = 31, n = 2 * p;
        long seed = 0x1055_0002L;
        String what = "P=" + p + " T=" + t + " H=" + h + " V=" + v + " f32 seed=" + seed;
        Random rnd = new Random(seed);
        float[] hidden = new float[n * t * h], weight = new float[v * h], bias = new float[v];
        for (int i = 0; i < hidden.length; i++) hidden[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < weight.length; i++) weight[i] = (float) rnd.nextGaussian() * 0.3f;
        for (int i = 0; i < v; i++) bias[i] = (float) rnd.nextGaussian() * 0.1f;
        long[] labels = new long[n * t];
        for (int i = 0; i < labels.length; i++) labels[i] = i % t < 2 ? -100 : rnd.nextInt(v);
        float[] ref = {-12, -13, -11, -14};
        Path in = dir.resolve("fused.safetensors"), out = dir.resolve("fused-out.safetensors");
        new SafetensorsWriter().add("hidden", hidden, new long[] {n, t, h}, DType.F32)
                .add("weight", weight, new long[] {v, h}, DType.F32)
                .add("bias", bias, new long[] {v}, DType.F32)
                .add("labels", labels, new long[] {n, t})
                .add("ref_logps", ref, new long[] {n}, DType.F32)
                .write(in);
        Run r = run("loss", "--in", in.toString(), "--out", out.toString());
        assertEquals(0, r.code, what + ": " + r.err);
        float[] gh = new float[hidden.length], gw = new float[weight.length], gb = new float[v];
        var want = org.dnonative.kernel.FusedLinearDnoLoss.compute(new LossShape(p, t, v), h, hidden, weight, bias,
                labels, ref, null, DnoLossOptions.defaults(), gh, gw, gb);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(want.loss(), f.readFloats("loss")[0], what + ": loss");
            assertTrue(!f.contains("grad_logits"), what + ": the fused form writes no grad_logits");
            float[] fgh = f.readFloats("grad_hidden"), fgw = f.readFloats("grad_weight"), fgb = f.readFloats("grad_bias");
            for (int i = 0; i < gh.length; i++) assertEquals(gh[i], fgh[i], what + ": grad_hidden " + i);
            for (int i = 0; i < gw.length; i++) assertEquals(gw[i], fgw[i], what + ": grad_weight " + i);
            for (int i = 0; i < v; i++) assertEquals(gb[i], fgb[i], what + ": grad_bias " + i);
        }
    }

    @Test
    void cudaWithoutADeviceIsABadArgumentNotACrash() throws Exception {
        assumeFalse(org.dnonative.kernel.Cuda.isAvailable(), "a CUDA device (or its emulation) is present");
        Path in = dir.resolve("small.safetensors");
        new SafetensorsWriter().add("logits", new float[] {0.5f, -1, 2, 0.25f}, new long[] {2, 1, 2}, DType.F32)
                .add("labels", new long[] {1, 0}, new long[] {2, 1})
                .add("ref_logps", new float[] {-1, -2}, new long[] {2}, DType.F32)
                .write(in);
        Run r = run("loss", "--in", in.toString(), "--out", dir.resolve("o.safetensors").toString(), "--device", "cuda");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.contains("--device cuda") && r.err.contains("no CUDA device"), r.err);
        assertFalse(r.err.contains("at org."), "no stack trace for a missing device: " + r.err);
    }

    @Test
    void badFilesGiveAClearErrorAndExitCode2() throws Exception {
        Path out = dir.resolve("out.safetensors");
        Run missing = run("loss", "--in", dir.resolve("nope.safetensors").toString(), "--out", out.toString());
        assertEquals(2, missing.code);
        assertTrue(missing.err.contains("nope.safetensors"), missing.err);

        Path garbage = dir.resolve("garbage.safetensors");
        Files.writeString(garbage, "this is not a safetensors file at all");
        Run g = run("loss", "--in", garbage.toString(), "--out", out.toString());
        assertEquals(2, g.code, g.err);
        assertTrue(g.err.contains("garbage.safetensors"), g.err);

        Path noLabels = dir.resolve("nolabels.safetensors");
        new SafetensorsWriter().add("logits", new float[2 * 3 * 4], new long[] {2, 3, 4}, DType.F32).write(noLabels);
        Run nl = run("loss", "--in", noLabels.toString(), "--out", out.toString());
        assertEquals(2, nl.code);
        assertTrue(nl.err.contains("'labels'"), nl.err);

        Path badLabel = dir.resolve("badlabel.safetensors");
        float[] x = new float[2 * 3 * 4];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.1f;
        new SafetensorsWriter().add("logits", x, new long[] {2, 3, 4}, DType.F32)
                .add("labels", new long[] {0, 1, 9, 0, 1, 2}, new long[] {2, 3})
                .add("ref_logps", new float[] {-3, -3}, new long[] {2}, DType.F32).write(badLabel);
        Run bl = run("loss", "--in", badLabel.toString(), "--out", out.toString());
        assertEquals(2, bl.code);
        assertTrue(bl.err.contains("labels[0,2]"), bl.err);
        assertFalse(Files.exists(out), "nothing is written on failure");

        Run badBeta = run("loss", "--in", badLabel.toString(), "--out", out.toString(), "--beta", "-1");
        assertEquals(2, badBeta.code);
        assertTrue(badBeta.err.contains("beta"), badBeta.err);
    }
}
