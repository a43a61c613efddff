package org.dnonative.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.dnonative.kernel.AmxLinear;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.dnonative.model.InMemoryPolicyTest.CPU;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Scoring through the AMX view ({@link CausalLM#withAmxWeights}, bf16x3 products) against the
 * same scores through libtorch's float32 products, on a random Llama whose matrices the view packs
 * (at least 2^16 elements) and prompts and responses of odd lengths from a fixed seed: the
 * reference log-probs that enter the DNO loss stay accurate to about float32.
 */
class ScorerAmxTest {
    @Test
    void amxScoringMatchesLibtorchFloat32ToAboutFloat32() {
        assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        ModelConfig cfg = ModelConfig.of(ModelConfig.Architecture.LLAMA, 1000, 256, 688, 2, 4, 2, 256, true, null, 3, 0);
        long seed = 23;
        try (CausalLM m = CausalLM.random(cfg, seed, CPU)) {
            SplittableRandom r = new SplittableRandom(seed);
            List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                prompts.add(r.ints(5 + 7 * i, 3, 1000).toArray());
                responses.add(r.ints(40 - 3 * i, 3, 1000).toArray());
            }
            try (CausalLM view = m.withAmxWeights(1)) {
                assertNotNull(view, "the view packs this model's matrices");
            }
            List<SequenceScore> amx = new Scorer(m, 0, 4096).score(prompts, responses);
            float[] f32;
            try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope();
                 SequenceBatch batch = new SequenceBatch(prompts, responses, 0, CPU)) {
                Tensor hidden = m.hidden(batch.inputIds(), null, null, null);
                f32 = Tensors.toFloats(Scorer.sequenceLogprobs(m, batch, hidden));
            }
            double worst = 0;
            for (int i = 0; i < prompts.size(); i++) {
                double d = Math.abs(amx.get(i).logprob() - f32[i]) / responses.get(i).length;
                worst = Math.max(worst, d);
            }
            assertTrue(worst < 2e-5, "AMX scorer vs libtorch float32, worst |difference| per token " + worst + " nats (seed " + seed + ")");
            assertTrue(worst > 0, "the AMX path ran (its rounding differs from libtorch's somewhere)");
        }
    }

    @Test
    void theViewLeavesTheModelIntact() {
        assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        ModelConfig cfg = ModelConfig.of(ModelConfig.Architecture.LLAMA, 600, 256, 512, 1, 4, 2, 64, true, null, 3, 0);
        try (CausalLM m = CausalLM.random(cfg, 5, CPU)) {
            float[][] before = m.logitsOf(new long[]{2, 5, 7});
            try (CausalLM view = m.withAmxWeights(2)) {
                assertNotNull(view);
                assertEquals(m.parameters().keySet(), view.parameters().keySet());
            }
            float[][] after = m.logitsOf(new long[]{2, 5, 7});
            for (int t = 0; t < 3; t++) assertArrayEquals(before[t], after[t], "position " + t);
        }
    }
}
