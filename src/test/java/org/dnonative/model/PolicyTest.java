package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PolicyTest {
    static final Device CPU = new Device(torch.DeviceType.CPU);
    static Policy policy;

    @BeforeAll
    static void load() { policy = Policy.load(Fixture.MODEL, CPU); }

    @AfterAll
    static void close() { policy.close(); }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    @Test
    void eosAndPadComeFromTheConfigFiles() {
        assertTrue(policy.eosIds().contains(2));
        assertEquals(0, policy.padId());
    }

    @Test
    void responseLogprobSumsMatchTransformers() {
        List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
        List<Double> expected = new ArrayList<>();
        for (JsonNode c : Fixture.cases()) {
            prompts.add(ints(c.get("prompt_ids")));
            responses.add(ints(c.get("response_ids")));
            expected.add(c.get("response_logprob_sum").asDouble());
        }
        // a budget that forces one batch per sequence, then one that packs them together (padding must not matter)
        for (int budget : new int[]{1, 4096}) {
            // and with logits sliced three rows at a time
            for (long logits : new long[]{Scorer.DEFAULT_LOGIT_ELEMENTS, 3L * policy.model().config().vocabSize()}) {
            List<SequenceScore> got = new Scorer(policy.model(), policy.padId(), budget, logits).score(prompts, responses);
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i), got.get(i).logprob(), 1e-3, "case " + i + " budget " + budget);
                assertEquals(responses.get(i).length, got.get(i).tokens());
            }
            }
        }
    }

    @Test
    void greedyContinuationsMatchTransformers() {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (JsonNode c : Fixture.cases()) {
            prompts.add(ints(c.get("prompt_ids")));
            expected.add(ints(c.get("greedy_16")));
        }
        // one batch with both prompts (left padding) and each alone
        for (int maxBatch : new int[]{1, 8}) {
            SamplingParams p = new SamplingParams(1, 0, 1, 0, 16, List.of(), 0, maxBatch);
            List<List<Completion>> out = new Sampler(policy).generate(prompts, p);
            for (int i = 0; i < prompts.size(); i++) {
                int[] got = out.get(i).get(0).ids();
                int[] want = expected.get(i);
                // transformers' greedy_16 continues past eos; we stop at eos, so compare the common prefix
                int n = got.length;
                assertTrue(n == 16 || policy.eosIds().contains(got[n - 1]), "stopped early without eos");
                assertArrayEquals(Arrays.copyOf(want, n), got, "case " + i + " maxBatch " + maxBatch + ": " + Arrays.toString(got));
            }
        }
    }

    @Test
    void kvCacheDecodingEqualsFullForward() {
        CausalLM m = policy.model();
        int[] prompt = ints(Fixture.cases().get(0).get("prompt_ids"));
        long[] ids = new long[prompt.length];
        for (int i = 0; i < ids.length; i++) ids[i] = prompt[i];
        float[][] full = m.logitsOf(ids);
        int split = 10;
        try (NoGradGuard g = new NoGradGuard(); PointerScope s = new PointerScope();
             KvCache cache = new KvCache(m.config(), 1, ids.length, CPU, torch.ScalarType.Float)) {
            Tensor pre = Tensors.fromLongs(Arrays.copyOf(ids, split), 1, split);
            float[] first = Tensors.toFloats(m.logits(m.hidden(pre, null, null, cache)));
            int v = m.config().vocabSize();
            for (int j = 0; j < v; j++) assertEquals(full[split - 1][j], first[(split - 1) * v + j], 1e-4);
            for (int t = split; t < ids.length; t++) {
                float[] step = Tensors.toFloats(m.logits(m.hidden(Tensors.fromLongs(new long[]{ids[t]}, 1, 1), null, null, cache)));
                for (int j = 0; j < v; j++) assertEquals(full[t][j], step[j], 1e-4, "position " + t);
            }
        }
    }

    @Test
    void samplingIsReproducibleForASeedAndIndependentOfBatching() {
        List<int[]> prompts = new ArrayList<>();
        for (JsonNode c : Fixture.cases()) prompts.add(ints(c.get("prompt_ids")));
        SamplingParams a = new SamplingParams(3, 1.0, 0.95, 50, 12, List.of(), 42, 6);
        SamplingParams b = new SamplingParams(3, 1.0, 0.95, 50, 12, List.of(), 42, 2);
        SamplingParams c = new SamplingParams(3, 1.0, 0.95, 50, 12, List.of(), 43, 6);
        Sampler sampler = new Sampler(policy);
        List<List<Completion>> x = sampler.generate(prompts, a), y = sampler.generate(prompts, b), z = sampler.generate(prompts, c);
        boolean anyDifferent = false, samplesDiffer = false;
        for (int i = 0; i < prompts.size(); i++) {
            assertEquals(3, x.get(i).size());
            for (int k = 0; k < 3; k++) {
                assertArrayEquals(x.get(i).get(k).ids(), y.get(i).get(k).ids());
                anyDifferent |= !Arrays.equals(x.get(i).get(k).ids(), z.get(i).get(k).ids());
                if (k > 0) samplesDiffer |= !Arrays.equals(x.get(i).get(k).ids(), x.get(i).get(0).ids());
            }
        }
        assertTrue(anyDifferent, "another seed gives other samples");
        assertTrue(samplesDiffer, "the K samples of a prompt differ");
    }

    @Test
    void stopStringsEndACompletion() {
        int[] prompt = ints(Fixture.cases().get(0).get("prompt_ids"));
        SamplingParams free = new SamplingParams(1, 0, 1, 0, 16, List.of(), 0, 4);
        Completion c = new Sampler(policy).generate(List.of(prompt), free).get(0).get(0);
        assertTrue(c.text().length() >= 3, c.text());
        String stop = c.text().substring(1, 3);
        SamplingParams stopping = new SamplingParams(1, 0, 1, 0, 16, List.of(stop), 0, 4);
        Completion s = new Sampler(policy).generate(List.of(prompt), stopping).get(0).get(0);
        assertEquals("stop", s.finishReason());
        assertTrue(s.text().contains(stop) && s.ids().length <= c.ids().length);
    }

    @Test
    void topPAndTopKRestrictTheChoice() {
        float[] logits = {5f, 4f, 0f, -1f};
        java.util.SplittableRandom rng = new java.util.SplittableRandom(1);
        SamplingParams k1 = new SamplingParams(1, 1.0, 1.0, 1, 1, List.of(), 0, 1);
        SamplingParams p = new SamplingParams(1, 1.0, 0.5, 0, 1, List.of(), 0, 1);
        for (int i = 0; i < 200; i++) {
            assertEquals(0, Sampler.choose(logits, 0, 4, k1, rng));
            assertEquals(0, Sampler.choose(logits, 0, 4, p, rng)); // p(0) = 0.72 > 0.5
        }
    }

    @Test
    void saveThenLoadGivesIdenticalLogits(@TempDir Path dir) throws Exception {
        policy.save(dir, "float32");
        try (Policy again = Policy.load(dir, CPU)) {
            long[] ids = {1, 5, 9, 200, 3};
            float[][] a = policy.model().logitsOf(ids), b = again.model().logitsOf(ids);
            for (int t = 0; t < ids.length; t++) assertArrayEquals(a[t], b[t]);
            assertTrue(java.nio.file.Files.exists(dir.resolve("tokenizer.json")));
            assertTrue(java.nio.file.Files.exists(dir.resolve("chat_template.jinja")));
            assertTrue(java.nio.file.Files.exists(dir.resolve("generation_config.json")));
            try (var f = org.dnonative.io.SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                assertEquals("pt", f.metadata().get("format"));
                assertFalse(f.contains("lm_head.weight"), "tied lm_head is not written");
            }
        }
    }

    @Test
    void bf16CheckpointsLoadCloseToFloat32(@TempDir Path dir) throws Exception {
        policy.save(dir, "bfloat16");
        try (Policy again = Policy.load(dir, CPU)) {
            assertEquals("bfloat16", again.model().config().raw().get("dtype").asText());
            long[] ids = {1, 5, 9, 200, 3};
            float[][] a = policy.model().logitsOf(ids), b = again.model().logitsOf(ids);
            double worst = 0;
            for (int t = 0; t < ids.length; t++) for (int j = 0; j < a[t].length; j++) worst = Math.max(worst, Math.abs(a[t][j] - b[t][j]));
            assertTrue(worst < 0.5, "bf16 weights moved logits by " + worst);
        }
    }

    @Test
    void copiesAreIndependent() {
        try (Policy copy = policy.copy()) {
            long[] ids = {1, 5, 9};
            assertArrayEquals(policy.model().logitsOf(ids)[2], copy.model().logitsOf(ids)[2]);
            try (NoGradGuard g = new NoGradGuard()) {
                copy.model().parameters().get("model.norm.weight").mul_(new org.bytedeco.pytorch.Scalar(2.0));
            }
            assertFalse(Arrays.equals(policy.model().logitsOf(ids)[2], copy.model().logitsOf(ids)[2]));
        }
    }

    @Test
    void savingOverACheckpointReplacesItWholeAndLeavesNothingBehind(@TempDir Path parent) throws Exception {
        Path target = parent.resolve("iter-1");
        policy.save(target, "bfloat16");
        policy.save(target);   // the fixture's own dtype, float32, over the bf16 one
        try (var files = java.nio.file.Files.list(parent)) {
            assertEquals(List.of(target), files.toList(), "no temporary or old directories left");
        }
        try (Policy again = Policy.load(target, CPU)) {
            assertEquals("float32", again.model().config().raw().get("dtype").asText());
            long[] ids = {1, 5, 9};
            assertArrayEquals(policy.model().logitsOf(ids)[2], again.model().logitsOf(ids)[2]);
        }
    }

    @Test
    void labelsPutResponseTokensWhereTheyArePredicted() {
        try (PointerScope s = new PointerScope();
             SequenceBatch b = new SequenceBatch(List.of(new int[]{1, 2, 3}, new int[]{4}), List.of(new int[]{7, 8}, new int[]{9, 10, 11}), 0, CPU)) {
            long[] labels = Tensors.toLongs(b.labels());
            long I = SequenceBatch.IGNORE;
            assertArrayEquals(new long[]{I, I, 7, 8, I, /* row 2 */ 9, 10, 11, I, I}, labels);
        }
    }

    /** pairs(from, to) of a batch of P chosen then P rejected rows: those pairs' rows, in the same layout, packed to their own length. */
    @Test
    void aSubBatchOfPairsKeepsThePairLayout() {
        List<int[]> prompts = List.of(new int[]{1, 2}, new int[]{3}, new int[]{4, 5, 6}, new int[]{1, 2}, new int[]{3}, new int[]{4, 5, 6});
        List<int[]> responses = List.of(new int[]{7}, new int[]{8, 9, 10, 11, 12}, new int[]{13}, new int[]{14, 15}, new int[]{16}, new int[]{17});
        try (PointerScope s = new PointerScope(); SequenceBatch b = new SequenceBatch(prompts, responses, 0, CPU);
             SequenceBatch last = b.pairs(2, 3); SequenceBatch first = b.pairs(0, 2)) {
            assertEquals(6, b.length());
            assertArrayEquals(new long[]{4, 5, 6, 13, 4, 5, 6, 17}, Tensors.toLongs(last.inputIds()), "pair 2: chosen, then rejected, length 4");
            assertArrayEquals(new int[]{1, 1}, last.responseLengths());
            assertArrayEquals(new int[]{1, 5, 2, 1}, first.responseLengths(), "pairs 0 and 1: chosen 0, 1, then rejected 0, 1");
            assertArrayEquals(new long[]{7, 8, 9, 10, 11, 12, 14, 15, 16}, Tensors.toLongs(first.targets()));
            assertThrows(IllegalArgumentException.class, () -> b.pairs(1, 4), "beyond the 3 pairs");
            assertThrows(IllegalArgumentException.class, () -> b.pairs(2, 2), "empty");
        }
    }
}
