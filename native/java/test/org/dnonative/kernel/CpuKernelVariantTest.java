package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The builds of the CPU row kernels (baseline x86-64, AVX2, AVX-512): DNO_CPU_KERNELS picks the
 * build, a value that cannot run is an error and not a crash, and every build this CPU runs gives
 * the same loss and gradient up to rounding (they differ in FMA contraction, so not bitwise).
 *
 * <p>The choice is made once per process, so the comparison runs each build in a child JVM. The
 * Maven build also reruns the CPU kernel test classes under DNO_CPU_KERNELS=baseline and =avx2
 * (executions cpu-kernels-baseline, cpu-kernels-avx2), where the first test checks the choice.
 */
class CpuKernelVariantTest {
    static final List<String> VARIANTS = List.of("baseline", "avx2", "avx512");
    static final long SEED = 20261201L;
    /** Exit code of the child when the CPU cannot run the build it was asked for. */
    static final int UNSUPPORTED = 3;

    @Test
    void activeBuildIsTheOneTheEnvironmentNames() {
        String env = System.getenv("DNO_CPU_KERNELS");
        String active = DnoLoss.cpuKernels();
        if (env == null || env.isEmpty() || env.equals("auto"))
            assertTrue(VARIANTS.contains(active), "DNO_CPU_KERNELS unset, active build " + active);
        else
            assertEquals(env, active, "DNO_CPU_KERNELS=" + env);
    }

    @Test
    @DisabledIfEnvironmentVariable(named = "DNO_CPU_KERNELS", matches = ".+", disabledReason = "runs once, by default")
    void everyBuildThisCpuRunsAgreesWithTheBaseline(@TempDir Path dir) throws Exception {
        Map<String, List<float[]>> results = new LinkedHashMap<>();
        List<String> unsupported = new ArrayList<>();
        for (String variant : VARIANTS) {
            Child run = runChild(variant, dir);
            if (run.exitCode == UNSUPPORTED) {
                assertTrue(run.output.contains("DNO_CPU_KERNELS=" + variant) && run.output.contains("supports"),
                        "the refusal names the variable and what the CPU supports: " + run.output);
                unsupported.add(variant);
                continue;
            }
            assertEquals(0, run.exitCode, "child with DNO_CPU_KERNELS=" + variant + " failed:\n" + run.output);
            results.put(variant, read(run.resultFile));
        }
        assertTrue(results.containsKey("baseline"), "the baseline build must run everywhere; unsupported: " + unsupported);
        String best = DnoLoss.cpuKernels();
        assertTrue(results.containsKey(best), "the default build " + best + " ran in a child too; unsupported: " + unsupported);

        List<float[]> want = results.get("baseline");
        for (Map.Entry<String, List<float[]>> e : results.entrySet()) {
            List<float[]> got = e.getValue();
            for (int c = 0; c < CASES.length; c++) {
                String what = e.getKey() + " vs baseline, " + CASES[c] + " seed " + SEED;
                assertClose(what + " loss/logps/z", want.get(2 * c), got.get(2 * c), 1e-5, 1e-5);
                // Each gradient element is rounded to the case's dtype: one ulp of it apart is rounding.
                double rel = CASES[c] == ElementType.BFLOAT16 ? 0x1p-7 : CASES[c] == ElementType.FLOAT16 ? 0x1p-10 : 1e-5;
                assertClose(what + " grad", want.get(2 * c + 1), got.get(2 * c + 1), rel, 1e-6 * maxAbs(want.get(2 * c + 1)));
            }
        }
    }

    @Test
    void aValueThatCannotRunIsAnErrorNotACrash(@TempDir Path dir) throws Exception {
        Child run = runChild("sse9", dir);
        assertEquals(UNSUPPORTED, run.exitCode, run.output);
        assertTrue(run.output.contains("DNO_CPU_KERNELS=sse9 is not one of auto, baseline, avx2, avx512"), run.output);
        assertTrue(run.output.contains("this CPU supports baseline"), run.output);
    }

    // --- the child JVM --------------------------------------------------------------------------

    static final ElementType[] CASES = {ElementType.FLOAT32, ElementType.BFLOAT16, ElementType.FLOAT16};

    record Child(int exitCode, String output, Path resultFile) {}

    static Child runChild(String variant, Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve(variant + ".bin"), log = dir.resolve(variant + ".log");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", classPath, ChildMain.class.getName(), out.toString());
        pb.environment().put("DNO_CPU_KERNELS", variant);
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child with DNO_CPU_KERNELS=" + variant + " did not finish in 120 s:\n" + Files.readString(log));
        }
        return new Child(p.exitValue(), Files.readString(log), out);
    }

    /**
     * Computes the cases with the build DNO_CPU_KERNELS names and writes the results to args[0];
     * a loss call that refuses the build exits with {@link #UNSUPPORTED} and prints why.
     */
    static final class ChildMain {
        public static void main(String[] args) throws IOException {
            try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(Path.of(args[0])))) {
                for (ElementType dtype : CASES)
                    for (float[] a : compute(dtype)) {
                        out.writeInt(a.length);
                        for (float v : a) out.writeFloat(v);
                    }
                System.out.println("row kernels: " + DnoLoss.cpuKernels());
            } catch (DnoException e) {
                System.out.println(e.status() + ": " + e.getMessage());
                System.exit(e.status() == DnoException.Status.INVALID_ARGUMENT ? UNSUPPORTED : 1);
            }
        }
    }

    /** {loss, logps..., z...} and the gradient as float32, for one fixed-seed case of `dtype`. */
    static List<float[]> compute(ElementType dtype) {
        final int p = 3, t = 9, v = 1031;  // V not a multiple of 16: every build's tail loop runs too
        LossShape shape = new LossShape(p, t, v);
        SplittableRandom rnd = new SplittableRandom(SEED + dtype.ordinal());
        float[] logits = new float[(int) shape.logitElements()];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (rnd.nextGaussian() * 3.0);
        long[] labels = new long[(int) shape.positions()];
        for (int i = 0; i < labels.length; i++) labels[i] = rnd.nextInt(5) == 0 ? -100 : rnd.nextInt(v);
        float[] ref = new float[2 * p];
        for (int i = 0; i < ref.length; i++) ref[i] = (float) (-20.0 * rnd.nextDouble());
        float[] targets = new float[p];
        for (int i = 0; i < p; i++) targets[i] = (float) rnd.nextDouble();
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withGradScale(1.7f);
        DnoLossResult r;
        float[] grad;
        if (dtype == ElementType.FLOAT32) {
            grad = new float[logits.length];
            r = DnoLoss.compute(shape, logits, labels, ref, targets, o, grad);
        } else {
            short[] x = new short[logits.length], g = new short[logits.length];
            for (int i = 0; i < x.length; i++) x[i] = Half.to(dtype, logits[i]);
            r = DnoLoss.compute(shape, x, dtype, labels, ref, targets, o, g);
            grad = new float[g.length];
            for (int i = 0; i < g.length; i++) grad[i] = Half.from(dtype, g[i]);
        }
        float[] scalars = new float[1 + 2 * p + p];
        scalars[0] = r.loss();
        System.arraycopy(r.logps(), 0, scalars, 1, 2 * p);
        System.arraycopy(r.z(), 0, scalars, 1 + 2 * p, p);
        return List.of(scalars, grad);
    }

    static List<float[]> read(Path file) throws IOException {
        List<float[]> all = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            for (int k = 0; k < 2 * CASES.length; k++) {
                float[] a = new float[in.readInt()];
                for (int i = 0; i < a.length; i++) a[i] = in.readFloat();
                all.add(a);
            }
        }
        return all;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        return m;
    }

    /** |got - want| <= rel * max(|got|, |want|) + abs at every index; the message counts the differing elements. */
    static void assertClose(String what, float[] want, float[] got, double rel, double abs) {
        assertEquals(want.length, got.length, what + " length");
        int differ = 0, worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) differ++;
            double err = Math.abs((double) got[i] - want[i]);
            double excess = err - (rel * Math.max(Math.abs(got[i]), Math.abs(want[i])) + abs);
            if (excess > worstExcess) { worstExcess = excess; worst = i; }
        }
        if (worst >= 0)
            fail(what + ": element " + worst + " is " + got[worst] + ", expected " + want[worst] + " (rel " + rel
                    + ", abs " + abs + "); " + differ + " of " + want.length + " elements differ at all");
    }
}
