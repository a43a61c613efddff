package org.dnonative.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static org.dnonative.model.InMemoryPolicyTest.CPU;
import static org.dnonative.model.InMemoryPolicyTest.charTokenizerJson;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Compute threads (rows and batches split over single-threaded workers), bfloat16 sampling
 * weights, and float32 weights mapped from the safetensors file.
 */
class ThreadsAndPrecisionTest {
    @AfterEach
    void defaultThreads() {
        Threads.configure(0);
    }

    private static Policy tinyPolicy(int seed) throws Exception {
        Tokenizer tok = Tokenizer.fromJson(charTokenizerJson("abcdefghij", List.of("<pad>", "<unk>", "<s>", "<eos>")), "<built-in>");
        ModelConfig cfg = ModelConfig.of(ModelConfig.Architecture.LLAMA, tok.vocabSize(), 32, 64, 2, 4, 2, 128, true, null, 3, 0);
        return Policy.of(CausalLM.random(cfg, seed, CPU), tok, null);
    }

    @Test
    void rangesCoverEveryIndexOnce() {
        for (int n : new int[]{0, 1, 2, 7, 8}) {
            for (int parts : new int[]{1, 2, 3, 16}) {
                int next = 0;
                for (int[] r : Threads.ranges(n, parts)) {
                    assertEquals(next, r[0]);
                    assertTrue(r[1] > r[0]);
                    next = r[1];
                }
                assertEquals(n, next, n + " in " + parts);
                assertTrue(Threads.ranges(n, parts).size() <= Math.max(1, parts));
            }
        }
    }

    @Test
    void workersReturnInOrderAndRethrowTheFirstFailure() {
        Threads.configure(2);
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int i = 0; i < 5; i++) { int k = i; tasks.add(() -> k * k); }
        assertEquals(List.of(0, 1, 4, 9, 16), Threads.run(tasks));
        // every worker computes with one libtorch thread (OpenMP settings are per thread)
        List<Callable<Integer>> threads = List.of(torch::get_num_threads, torch::get_num_threads);
        assertEquals(List.of(1, 1), Threads.run(threads));
        // tasks that run tasks themselves (a scorer inside a worker) finish instead of waiting on a full pool
        List<Callable<List<Integer>>> nested = List.of(() -> Threads.run(List.of(() -> 1, () -> 2)), () -> Threads.run(List.of(() -> 3, () -> 4)));
        assertEquals(List.of(List.of(1, 2), List.of(3, 4)), Threads.run(nested));
        List<Callable<Integer>> failing = List.of(() -> 1, () -> { throw new IllegalStateException("boom"); });
        assertEquals("boom", assertThrows(IllegalStateException.class, () -> Threads.run(failing)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Threads.configure(-1));
    }

    /** Rows and batches split over workers give each row what one thread gives it (per-row random streams). */
    @Test
    void samplesAndScoresDoNotDependOnTheThreadCount() throws Exception {
        try (Policy p = tinyPolicy(5)) {
            List<int[]> prompts = List.of(new int[]{2, 4, 5}, new int[]{2, 6}, new int[]{2, 7, 7, 4});
            SamplingParams sp = new SamplingParams(3, 1.0, 0.9, 0, 12, List.of(), 4, 4);   // 3 batches of <= 4 rows
            Threads.configure(1);
            List<List<Completion>> one = new Sampler(p).generate(prompts, sp);
            List<int[]> rs = new ArrayList<>(), ps = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) for (Completion c : one.get(i)) { ps.add(prompts.get(i)); rs.add(c.ids()); }
            List<SequenceScore> s1 = new Scorer(p.model(), p.padId(), 4096).score(ps, rs);
            Threads.configure(2);
            List<List<Completion>> two = new Sampler(p).generate(prompts, sp);
            List<SequenceScore> s2 = new Scorer(p.model(), p.padId(), 4096).score(ps, rs);
            for (int i = 0; i < prompts.size(); i++)
                for (int k = 0; k < 3; k++) assertArrayEquals(one.get(i).get(k).ids(), two.get(i).get(k).ids(), "prompt " + i + " sample " + k);
            for (int i = 0; i < s1.size(); i++) assertEquals(s1.get(i).logprob(), s2.get(i).logprob(), 1e-5, "sequence " + i);
            // one batch of 9 rows and 3 threads: its rows' draws are split over the threads (RowShare)
            SamplingParams oneBatch = new SamplingParams(3, 1.0, 0.9, 0, 12, List.of(), 4, 16);
            Threads.configure(1);
            List<List<Completion>> alone = new Sampler(p).generate(prompts, oneBatch);
            Threads.configure(3);
            List<List<Completion>> shared = new Sampler(p).generate(prompts, oneBatch);
            for (int i = 0; i < prompts.size(); i++)
                for (int k = 0; k < 3; k++)
                    assertArrayEquals(alone.get(i).get(k).ids(), shared.get(i).get(k).ids(), "one batch, prompt " + i + " sample " + k);
        }
    }

    /**
     * bfloat16 weights move the next-token log-probs by little (measured here on a random model,
     * where they are near-uniform; benchmarks/RESULTS.md has the 39M model's figure), sampling
     * with them is reproducible, and the float32 policy is left as it was.
     */
    @Test
    void bf16SamplingStaysCloseToFloat32AndReproducible() throws Exception {
        try (Policy p = tinyPolicy(9); NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            long[] ids = {2, 4, 5, 6, 7, 8, 9, 4};
            float[][] f32 = p.model().logitsOf(ids);
            float[][] bf;
            try (CausalLM cast = p.model().inferenceCopy(torch.ScalarType.BFloat16)) {
                assertEquals(torch.ScalarType.BFloat16, cast.dtype());
                bf = cast.logitsOf(ids);
            }
            double worst = 0;
            for (int t = 0; t < ids.length; t++) {
                double[] a = logSoftmax(f32[t]), b = logSoftmax(bf[t]);
                for (int v = 0; v < a.length; v++) worst = Math.max(worst, Math.abs(a[v] - b[v]));
            }
            assertTrue(worst < 0.05, "max |log-prob difference| bf16 vs float32: " + worst);
            assertTrue(worst > 0, "the cast changed nothing: was it applied?");
            assertEquals(torch.ScalarType.Float, p.model().dtype());

            Sampler s = new Sampler(p).withDtype(torch.ScalarType.BFloat16);
            SamplingParams sp = new SamplingParams(2, 1.0, 1.0, 0, 10, List.of(), 3, 4);
            List<List<Completion>> a = s.generate(List.of(new int[]{2, 4}), sp), b = s.generate(List.of(new int[]{2, 4}), sp);
            for (int k = 0; k < 2; k++) assertArrayEquals(a.get(0).get(k).ids(), b.get(0).get(k).ids());
            assertThrows(IllegalArgumentException.class, () -> s.withDtype(torch.ScalarType.Half));
        }
    }

    /**
     * bf16 decode weights (the default meaning of bfloat16 sampling on a float32 CPU model): the
     * decode step's log-probs of given tokens move by float32-rounding only with float32 weights,
     * by a little with the bf16 copies; the view shares the model's parameters and closing it
     * leaves the model intact. Weights of at least 2^16 elements, so that the kernel takes them.
     */
    @Test
    void bf16DecodeWeightsMoveTheDecodeLogprobsALittleAndLeaveTheModelIntact() throws Exception {
        ModelConfig cfg = ModelConfig.of(ModelConfig.Architecture.LLAMA, 512, 256, 512, 2, 4, 2, 128, true, null, 3, 0);
        try (CausalLM m = CausalLM.random(cfg, 17, CPU)) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(17);
            List<int[]> prompts = new java.util.ArrayList<>(), responses = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                prompts.add(r.ints(9, 3, 512).toArray());
                responses.add(r.ints(12, 3, 512).toArray());
            }
            List<SequenceScore> ref = new Scorer(m, 0, 1024).score(prompts, responses);
            double[] f32 = Sampler.decodeLogprobs(m, prompts, responses);
            float[][] before = m.logitsOf(new long[]{2, 5, 7});
            double[] bf;
            try (CausalLM view = m.withBf16DecodeWeights()) {
                assertNotNull(view);
                bf = Sampler.decodeLogprobs(view, prompts, responses);
            }
            double worstF32 = 0, meanBf = 0;
            for (int i = 0; i < 4; i++) {
                worstF32 = Math.max(worstF32, Math.abs(f32[i] - ref.get(i).logprob()) / 12);
                meanBf += Math.abs(bf[i] - ref.get(i).logprob()) / (4 * 12);
            }
            assertTrue(worstF32 < 1e-5, "float32 decode vs scorer, per token: " + worstF32 + " (seed 17)");
            assertTrue(meanBf > 1e-6 && meanBf < 5e-3, "bf16 decode weights vs float32 scorer, mean per token: " + meanBf + " (seed 17)");
            float[][] after = m.logitsOf(new long[]{2, 5, 7});
            for (int t = 0; t < 3; t++) assertArrayEquals(before[t], after[t], "the model after its view closed, position " + t);
        }
    }

    private static double[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : x) max = Math.max(max, v);
        for (float v : x) sum += Math.exp(v - max);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - max - Math.log(sum);
        return out;
    }

    /** Float32 weights are the file's pages mapped copy-on-write: training them never writes the file. */
    @Test
    void mappedWeightsAreWritableAndLeaveTheFileAlone(@TempDir Path dir) throws Exception {
        try (Policy p = tinyPolicy(2)) {
            p.save(dir, "float32");
        }
        byte[] before = Files.readAllBytes(dir.resolve("model.safetensors"));
        try (Policy p = Policy.load(dir, CPU); NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            Tensor w = p.model().parameters().get("model.layers.0.mlp.up_proj.weight");
            float first = Tensors.toFloats(w)[0];
            w.add_(torch.ones_like(w));
            assertEquals(first + 1, Tensors.toFloats(w)[0], 1e-6);
            try (Policy again = Policy.load(dir, CPU)) {
                assertEquals(first, Tensors.toFloats(again.model().parameters().get("model.layers.0.mlp.up_proj.weight"))[0]);
            }
        }
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("model.safetensors")));
    }
}
