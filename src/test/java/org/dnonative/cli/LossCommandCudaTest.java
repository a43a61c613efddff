package org.dnonative.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.dnonative.io.DType;
import org.dnonative.kernel.Half;
import org.dnonative.io.SafetensorsFile;
import org.dnonative.io.SafetensorsWriter;
import org.dnonative.kernel.GpuTestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `loss --device cuda` against `loss --device cpu` on the same file, for both forms. */
@Tag("gpu")
class LossCommandCudaTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsGpu() {
        GpuTestSupport.needsGpu();
    }

    private static ByteBuffer bf16(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putShort(Half.floatToBf16(v));
        return b.flip();
    }

    private static float[] gaussian(Random rnd, int n, double scale) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (rnd.nextGaussian() * scale);
        return f;
    }

    private static long[] labels(Random rnd, int n, int t, int v) {
        long[] l = new long[n * t];
        for (int i = 0; i < l.length; i++) l[i] = i % t < t / 4 ? -100 : rnd.nextInt(v);
        return l;
    }

    /** Runs `loss` on both devices and compares every output tensor of the CPU run; {@code what} names the inputs. */
    private void compareDevices(String what, Path in, double rtol, double atol, String... extra) throws Exception {
        Path cpu = dir.resolve("cpu.safetensors"), cuda = dir.resolve("cuda.safetensors");
        for (Path out : new Path[] {cpu, cuda}) {
            String[] args = new String[6 + extra.length];
            String[] base = {"loss", "--in", in.toString(), "--out", out.toString(), "--device=" + (out == cpu ? "cpu" : "cuda")};
            System.arraycopy(base, 0, args, 0, 6);
            System.arraycopy(extra, 0, args, 6, extra.length);
            LossCommandTest.Run r = LossCommandTest.run(args);
            assertEquals(0, r.code(), what + ": " + r.err());
        }
        try (SafetensorsFile a = SafetensorsFile.open(cpu); SafetensorsFile b = SafetensorsFile.open(cuda)) {
            Set<String> names = new TreeSet<>(a.tensors().keySet());
            assertTrue(names.size() >= 6, what + ": outputs " + names);
            assertEquals(names, new TreeSet<>(b.tensors().keySet()), what);
            for (String name : names) {
                assertEquals(a.info(name).dtype(), b.info(name).dtype(), what + ": " + name);
                float[] x = a.readFloats(name), y = b.readFloats(name);
                double max = 0;
                for (float v : x) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < x.length; i++)
                    assertTrue(Math.abs(x[i] - y[i]) <= atol * max + rtol * Math.abs(x[i]),
                            what + ": " + name + "[" + i + "]: cpu " + x[i] + " cuda " + y[i]);
            }
        }
    }

    @Test
    void logitsFormMatchesTheCpu() throws Exception {
        int p = 3, t = 17, v = 1031, n = 2 * p;
        long seed = 0xC0DA_0001L;
        Random rnd = new Random(seed);
        Path in = dir.resolve("in.safetensors");
        new SafetensorsWriter().add("logits", DType.BF16, new long[] {n, t, v}, bf16(gaussian(rnd, n * t * v, 2)))
                .add("labels", labels(rnd, n, t, v), new long[] {n, t})
                .add("ref_logps", gaussian(rnd, n, 1), new long[] {n}, DType.F32)
                .add("targets", new float[] {0.9f, 0.2f, 1f}, new long[] {p}, DType.F32)
                .write(in);
        compareDevices("P=" + p + " T=" + t + " V=" + v + " bf16 seed=" + seed, in, 1e-2, 1e-3, "--beta", "0.3", "--average");
    }

    @Test
    void fusedLinearFormMatchesTheCpu() throws Exception {
        int p = 2, t = 12, h = 40, v = 517, n = 2 * p;
        long seed = 0xC0DA_0002L;
        Random rnd = new Random(seed);
        Path in = dir.resolve("fused.safetensors");
        new SafetensorsWriter().add("hidden", gaussian(rnd, n * t * h, 1), new long[] {n, t, h}, DType.F32)
                .add("weight", gaussian(rnd, v * h, 0.3), new long[] {v, h}, DType.F32)
                .add("bias", gaussian(rnd, v, 0.1), new long[] {v}, DType.F32)
                .add("labels", labels(rnd, n, t, v), new long[] {n, t})
                .add("ref_logps", gaussian(rnd, n, 1), new long[] {n}, DType.F32)
                .write(in);
        compareDevices("P=" + p + " T=" + t + " H=" + h + " V=" + v + " f32 seed=" + seed, in, 1e-4, 1e-5);
    }
}
