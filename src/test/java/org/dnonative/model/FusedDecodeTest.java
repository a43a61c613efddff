package org.dnonative.model;

import org.dnonative.model.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.dnonative.model.InMemoryPolicyTest.CPU;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The one-call native decode layer ({@link org.dnonative.kernel.LlamaDecodeLayer}) against the
 * decode step composed of libtorch ops, on random Llama, Qwen2, Qwen3 and sliding-window Mistral
 * models whose matrices are all large enough for the fused path (at least 2^16 elements), 8/4
 * grouped heads: teacher-forced log-probs of
 * every token agree to float32 rounding with float32 weights and with the bf16 decode copies, and
 * greedy sampling of left-padded prompts of different lengths (which exercises the key mask and
 * the cache compaction as rows finish) gives the same tokens. Also the shared prefill (each
 * distinct prompt prefilled once for its K samples): the same samples as prefilling every row.
 */
class FusedDecodeTest {
    static final ModelConfig CFG = ModelConfig.of(ModelConfig.Architecture.LLAMA, 300, 512, 512, 2, 8, 4, 256, true, null, 2, 0);

    private static <T> T withFused(boolean on, java.util.function.Supplier<T> body) {
        boolean was = CausalLM.fusedDecode;
        CausalLM.fusedDecode = on;
        try {
            return body.get();
        } finally {
            CausalLM.fusedDecode = was;
        }
    }

    /** A word-level tokenizer t0..t(n-1): ids without text, for sampling a random model. */
    static Tokenizer wordTokenizer(int n) {
        StringBuilder v = new StringBuilder("{\"model\":{\"type\":\"WordLevel\",\"unk_token\":\"t0\",\"vocab\":{");
        for (int i = 0; i < n; i++) v.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":").append(i);
        v.append("}},\"decoder\":null,\"pre_tokenizer\":null,\"normalizer\":null}");
        return Tokenizer.fromJson(v.toString(), "<test>");
    }

    /** The bench-like Llama, and the Llama-family variants the layer takes: Qwen2 (q/k/v biases), Qwen3 (q/k norms), Mistral (a window of 6). */
    static ModelConfig config(String arch) {
        return switch (arch) {
            case "llama" -> CFG;
            case "qwen2" -> ModelConfig.of(ModelConfig.Architecture.QWEN2, 300, 512, 512, 2, 8, 4, 256, true, null, 2, 0);
            case "qwen3" -> ModelConfig.of(ModelConfig.Architecture.QWEN3, 300, 512, 512, 2, 8, 4, 256, true, null, 2, 0);
            case "mistral-window" -> {
                com.fasterxml.jackson.databind.node.ObjectNode n =
                        ModelConfig.of(ModelConfig.Architecture.MISTRAL, 300, 512, 512, 2, 8, 4, 256, true, null, 2, 0).raw().deepCopy();
                n.put("sliding_window", 6);
                yield ModelConfig.fromJson(n, "<test: mistral with a window of 6>");
            }
            default -> throw new IllegalArgumentException(arch);
        };
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "qwen2", "qwen3", "mistral-window"})
    void teacherForcedLogprobsMatchTheLibtorchDecodeStep(String arch) {
        long seed = 31;
        try (CausalLM m = CausalLM.random(config(arch), seed, CPU)) {
            SplittableRandom r = new SplittableRandom(seed);
            List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                prompts.add(r.ints(11, 3, 300).toArray());
                responses.add(r.ints(23, 3, 300).toArray());
            }
            double[] torch = withFused(false, () -> Sampler.decodeLogprobs(m, prompts, responses));
            double[] fused = withFused(true, () -> Sampler.decodeLogprobs(m, prompts, responses));
            double[] torchBf, fusedBf;
            try (CausalLM view = m.withBf16DecodeWeights()) {
                torchBf = withFused(false, () -> Sampler.decodeLogprobs(view, prompts, responses));
                fusedBf = withFused(true, () -> Sampler.decodeLogprobs(view, prompts, responses));
            }
            double any = 0;
            for (int i = 0; i < prompts.size(); i++) {
                any = Math.max(any, Math.abs(fused[i] - torch[i]) + Math.abs(fusedBf[i] - torchBf[i]));
                double d = Math.abs(fused[i] - torch[i]) / 23, dBf = Math.abs(fusedBf[i] - torchBf[i]) / 23;
                assertTrue(d < 2e-6, arch + " row " + i + ": fused vs libtorch decode, per token " + d + " (seed " + seed + ")");
                assertTrue(dBf < 2e-6, arch + " row " + i + ": fused vs libtorch decode with bf16 weights, per token " + dBf + " (seed " + seed + ")");
                assertNotEquals(torch[i], torchBf[i], "the bf16 view changes the decode (so both paths saw its weights)");
            }
            assertTrue(any > 0, "the fused path ran: its sums, in another order, round differently somewhere");
        }
    }

    @Test
    void greedySamplingOfPaddedPromptsGivesTheSameTokens() {
        Tokenizer tok = wordTokenizer(300);
        try (CausalLM m = CausalLM.random(CFG, 7, CPU)) {
            Policy policy = Policy.of(m, tok, null);
            SplittableRandom r = new SplittableRandom(7);
            List<int[]> prompts = new ArrayList<>();
            for (int len : new int[]{3, 17, 9, 30}) prompts.add(r.ints(len, 3, 300).toArray());
            SamplingParams greedy = SamplingParams.greedy(20);
            List<List<Completion>> a = withFused(false, () -> new Sampler(policy).generate(prompts, greedy));
            List<List<Completion>> b = withFused(true, () -> new Sampler(policy).generate(prompts, greedy));
            for (int i = 0; i < prompts.size(); i++)
                assertArrayEquals(a.get(i).get(0).ids(), b.get(i).get(0).ids(), "prompt " + i + " (seed 7)");
        }
    }

    @Test
    void sharedPrefillGivesTheSameSamples() {
        Tokenizer tok = wordTokenizer(300);
        try (CausalLM m = CausalLM.random(CFG, 11, CPU)) {
            assertTrue(m.sharesPrefill());
            Policy policy = Policy.of(m, tok, null);
            SplittableRandom r = new SplittableRandom(11);
            List<int[]> prompts = new ArrayList<>();
            for (int len : new int[]{5, 12, 8}) prompts.add(r.ints(len, 3, 300).toArray());
            SamplingParams p = new SamplingParams(3, 1.0, 0.95, 0, 15, List.of(), 11, 8);   // batches of 8 rows: 3 prompts x 3 samples
            List<List<Completion>> shared = new Sampler(policy).generate(prompts, p);
            boolean was = CausalLM.prefillSharing;
            CausalLM.prefillSharing = false;
            List<List<Completion>> every;
            try {
                every = new Sampler(policy).generate(prompts, p);
            } finally {
                CausalLM.prefillSharing = was;
            }
            for (int i = 0; i < prompts.size(); i++)
                for (int k = 0; k < 3; k++)
                    assertArrayEquals(every.get(i).get(k).ids(), shared.get(i).get(k).ids(), "prompt " + i + ", sample " + k + " (seed 11)");
        }
    }
}
