package org.dnonative.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.CausalLM;
import org.dnonative.model.Fixture;
import org.dnonative.model.ModelConfig;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The training path: each {@link PairLoss} kind against the float64 reference and against each
 * other, weighted accumulation, clipping and AdamW, the options, autocast and the models' biases.
 * Random data comes from {@link TinyPairs} with fixed seeds, named in every failure message.
 */
class TrainingTest {
    static final Device CPU = TinyPairs.CPU;
    static final List<int[]> PROMPTS = List.of(new int[]{1, 376, 265, 201, 57, 74}, new int[]{1, 85, 91, 300});
    static final List<int[]> CHOSEN = List.of(new int[]{22, 20, 16, 2}, new int[]{53, 350, 2});
    static final List<int[]> REJECTED = List.of(new int[]{99, 98, 2}, new int[]{7, 7, 7, 7, 2});

    /**
     * Every kind gives the float64 reference's loss, margin, accuracy and parameter gradients
     * (scaled by the micro-batch weight), hard and soft targets, tied and untied lm_head; and the
     * kinds agree with each other.
     */
    @ParameterizedTest(name = "seed={0} tied={1} soft={2}")
    @CsvSource({
        "11, true, false",
        "12, true, true",
        "13, false, false",
        "14, false, true",
    })
    void everyPairLossGivesTheFloat64ReferenceGradients(long seed, boolean tied, boolean soft) {
        TinyPairs data = new TinyPairs(seed, tied, 3);
        double weight = 0.75;
        try (CausalLM m = data.model(); PolicyTrainer trainer = new PolicyTrainer(m, TrainOptions.adamW(1e-3, 0, 10, 0, 0))) {
            TinyPairs.Expected want = data.expected(m, trainer, 0, 3, soft, weight);
            double meanZ = 0, preferred = 0;
            for (double z : want.loss().z) { meanZ += z / 3; preferred += z > 0 ? 1 / 3.0 : 0; }
            Map<String, float[]> nativeGrads = null;
            for (PairLoss.Kind kind : PairLoss.Kind.values()) {
                String ctx = data.context() + " soft=" + soft + " " + kind;
                PolicyTrainer.MicroResult r;
                try (PairLoss loss = PairLoss.create(kind, 1); SequenceBatch batch = data.batch(0, 3)) {
                    assertEquals(kind, loss.kind());
                    r = trainer.accumulate(loss, batch, data.ref(0, 3), soft ? data.targets(0, 3) : null, TinyPairs.BETA, weight);
                }
                assertEquals(want.loss().loss, r.loss(), 1e-5, ctx + " loss");
                assertEquals(meanZ, r.rewardMargin(), 1e-5, ctx + " reward margin");
                assertEquals(preferred, r.accuracy(), 1e-12, ctx + " accuracy");
                Map<String, float[]> got = TinyPairs.grads(m);
                TinyPairs.assertClose(want.grads(), got, 1e-4, ctx + " vs float64:");
                if (nativeGrads == null) nativeGrads = got;
                else TinyPairs.assertClose(nativeGrads, got, 1e-4, ctx + " vs NATIVE:");
                m.zeroGrad();
            }
        }
    }

    /**
     * An lm_head of at least 2^16 elements on a CPU with AMX: FUSED takes the AMX GEMM (small ones,
     * the demo's among them, keep OpenBLAS), and its loss and gradients agree with the libtorch
     * composition's to float32-level tolerance.
     */
    @Test
    void theFusedLossOnALargeLmHeadUsesTheAmxGemmAndAgreesWithLibtorch() {
        ModelConfig small = TinyPairs.config(true);
        ModelConfig large = ModelConfig.of(ModelConfig.Architecture.LLAMA, 2053, 32, 48, 2, 4, 2, 64, true, null, 1, 0);
        try (CausalLM s = CausalLM.random(small, 5, CPU)) {
            assertEquals(org.dnonative.kernel.FusedLinearOptions.Gemm.BLAS, FusedPairLoss.gemm(s), "a 61 x 32 lm_head");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(org.dnonative.kernel.AmxLinear.available(),
                org.dnonative.kernel.AmxLinear::whyNotAvailable);
        Random rnd = new Random(21);
        List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            prompts.add(rnd.ints(3 + i, 1, 2053).toArray());
            responses.add(rnd.ints(2 + 2 * i, 1, 2053).toArray());
        }
        List<int[]> ps = List.of(prompts.get(0), prompts.get(1), prompts.get(0), prompts.get(1));
        float[] ref = {-30f, -45f, -31f, -44f};
        Map<PairLoss.Kind, Map<String, float[]>> grads = new java.util.EnumMap<>(PairLoss.Kind.class);
        Map<PairLoss.Kind, Double> losses = new java.util.EnumMap<>(PairLoss.Kind.class);
        for (PairLoss.Kind kind : new PairLoss.Kind[] {PairLoss.Kind.LIBTORCH, PairLoss.Kind.FUSED}) {
            try (CausalLM m = CausalLM.random(large, 7, CPU); PolicyTrainer t = new PolicyTrainer(m, TrainOptions.adamW(1e-3, 0, 10, 0, 0));
                 PairLoss loss = PairLoss.create(kind, 1); SequenceBatch batch = new SequenceBatch(ps, responses, 0, CPU)) {
                if (kind == PairLoss.Kind.FUSED)
                    assertEquals(org.dnonative.kernel.FusedLinearOptions.Gemm.AMX, FusedPairLoss.gemm(m), "a 2053 x 32 lm_head");
                losses.put(kind, t.accumulate(loss, batch, ref, null, 0.1, 1.0).loss());
                grads.put(kind, TinyPairs.grads(m));
            }
        }
        assertEquals(losses.get(PairLoss.Kind.LIBTORCH), losses.get(PairLoss.Kind.FUSED), 1e-5, "loss");
        TinyPairs.assertClose(grads.get(PairLoss.Kind.LIBTORCH), grads.get(PairLoss.Kind.FUSED), 1e-4, "FUSED (AMX) vs LIBTORCH:");
    }

    /**
     * An lm_head of at least 2^16 elements: the native loss takes the logits of the response
     * positions only, and the forward computes each distinct prompt once (PolicyTrainer.sharesPrompts);
     * on 1 and on 2 compute threads (the pairs split), hard and soft targets, the loss and every
     * gradient agree with a float64 reference of the loss on the plain forward's full logits.
     */
    @ParameterizedTest(name = "soft={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aLargeLmHeadTrainsOnResponseLogitsAndSharedPromptsAsTheReference(boolean soft) {
        ModelConfig large = ModelConfig.of(ModelConfig.Architecture.LLAMA, 2053, 32, 48, 2, 4, 2, 64, true, null, 1, 0);
        long seed = 41;
        Random rnd = new Random(seed);
        List<int[]> distinct = List.of(rnd.ints(5, 1, 2053).toArray(), rnd.ints(9, 1, 2053).toArray(), rnd.ints(2, 1, 2053).toArray());
        List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
        int[] promptOf = {0, 1, 0, 2};   // 4 pairs, two of them to prompt 0
        for (int side = 0; side < 2; side++)
            for (int i = 0; i < promptOf.length; i++) {
                prompts.add(distinct.get(promptOf[i]));
                responses.add(rnd.ints(1 + rnd.nextInt(7), 1, 2053).toArray());
            }
        float[] ref = new float[8], targets = {0.9f, 1f, 0.7f, 0.8f};
        for (int i = 0; i < 8; i++) ref[i] = -20f - 3f * rnd.nextFloat() * responses.get(i).length;
        double weight = 0.75;
        String ctx = "seed " + seed + " soft=" + soft;
        int before = org.dnonative.model.Threads.count();
        try (CausalLM m = CausalLM.random(large, 7, CPU); PolicyTrainer t = new PolicyTrainer(m, TrainOptions.adamW(1e-3, 0, 10, 0, 0));
             PairLoss loss = PairLoss.create(PairLoss.Kind.NATIVE, 1); PointerScope scope = new PointerScope();
             SequenceBatch batch = new SequenceBatch(prompts, responses, 0, CPU)) {
            assertTrue(PolicyTrainer.sharesPrompts(m, batch), ctx + ": 3 distinct prompts of 8 sequences, a 2053 x 32 lm_head");
            // the reference: the plain forward, every position's logits, the float64 loss and its gradient
            Tensor logits = m.logits(m.hidden(batch.inputIds(), null, null, null)).contiguous();
            int n = (int) logits.size(0), len = (int) logits.size(1), v = (int) logits.size(2);
            org.dnonative.kernel.ReferenceDnoLoss want = new org.dnonative.kernel.ReferenceDnoLoss(n / 2, len, v,
                    TinyPairs.widen(Tensors.toFloats(logits)), Tensors.toLongs(batch.labels()), TinyPairs.widen(ref),
                    soft ? TinyPairs.widen(targets) : null, 0.1, false, SequenceBatch.IGNORE, weight);
            float[] g = new float[want.grad.length];
            for (int i = 0; i < g.length; i++) g[i] = (float) want.grad[i];
            logits.backward(Tensors.fromFloats(g, n, len, v), new org.bytedeco.pytorch.BoolOptional(), false,
                    new org.bytedeco.pytorch.TensorArrayRefOptional());
            Map<String, float[]> wantGrads = TinyPairs.grads(m);
            m.zeroGrad();
            for (int threads : new int[] {1, 2}) {
                org.dnonative.model.Threads.configure(threads);
                PolicyTrainer.MicroResult r = t.accumulate(loss, batch, ref, soft ? targets : null, 0.1, weight);
                assertEquals(want.loss, r.loss(), 1e-5, ctx + " threads=" + threads + " loss");
                TinyPairs.assertClose(wantGrads, TinyPairs.grads(m), 1e-4, ctx + " threads=" + threads + " vs float64:");
                m.zeroGrad();
            }
        } finally {
            org.dnonative.model.Threads.configure(before);
        }
    }

    /**
     * The pairs split over 2 and 3 compute threads (SplitMicroBatch: each part's forward and
     * backward on its own worker, the gradients added in part order) give the float64 reference's
     * loss and gradients, for every loss kind, tied and untied, hard and soft, into gradients that
     * start undefined and that start accumulated; and a second run with the same thread count gives
     * bitwise the same gradients.
     */
    @ParameterizedTest(name = "{0} tied={1} soft={2}")
    @CsvSource({"NATIVE, true, false", "FUSED, true, true", "LIBTORCH, false, false", "FUSED, false, true", "NATIVE, false, true"})
    void pairsSplitOverThreadsGiveTheReferenceGradientsRepeatably(PairLoss.Kind kind, boolean tied, boolean soft) {
        TinyPairs data = new TinyPairs(31, tied, 5);
        double weight = 0.6;
        int before = org.dnonative.model.Threads.count();
        try (CausalLM m = data.model(); PolicyTrainer trainer = new PolicyTrainer(m, TrainOptions.adamW(1e-3, 0, 10, 0, 0));
             PairLoss loss = PairLoss.create(kind, 1); org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
             SequenceBatch batch = data.batch(0, 5)) {
            // a fresh model's gradients are undefined: the first part's become them
            org.dnonative.model.Threads.configure(2);
            trainer.accumulate(loss, batch, data.ref(0, 5), soft ? data.targets(0, 5) : null, TinyPairs.BETA, weight);
            Map<String, float[]> fresh = TinyPairs.grads(m);
            TinyPairs.Expected want = data.expected(m, trainer, 0, 5, soft, weight);
            TinyPairs.assertClose(want.grads(), fresh, 1e-4, data.context() + " " + kind + " tied=" + tied + " soft=" + soft
                    + " threads=2, undefined gradients vs float64:");
            for (int threads : new int[] {2, 3}) {
                String ctx = data.context() + " " + kind + " tied=" + tied + " soft=" + soft + " threads=" + threads;
                org.dnonative.model.Threads.configure(threads);
                Map<String, float[]> first = null;
                for (int run = 0; run < 2; run++) {
                    PolicyTrainer.MicroResult r = trainer.accumulate(loss, batch, data.ref(0, 5), soft ? data.targets(0, 5) : null, TinyPairs.BETA, weight);
                    assertEquals(want.loss().loss, r.loss(), 1e-5, ctx + " loss");
                    Map<String, float[]> got = TinyPairs.grads(m);
                    TinyPairs.assertClose(want.grads(), got, 1e-4, ctx + " vs float64:");
                    if (first == null) first = got;
                    else for (String name : first.keySet())
                        assertArrayEquals(first.get(name), got.get(name), ctx + " " + name + ": a second run differs");
                    m.zeroGrad();
                }
                // into gradients already accumulated: twice the same micro-batch, twice the gradients
                trainer.accumulate(loss, batch, data.ref(0, 5), soft ? data.targets(0, 5) : null, TinyPairs.BETA, weight);
                trainer.accumulate(loss, batch, data.ref(0, 5), soft ? data.targets(0, 5) : null, TinyPairs.BETA, weight);
                Map<String, float[]> twice = TinyPairs.grads(m);
                for (Map.Entry<String, float[]> e : first.entrySet()) {
                    float[] g = e.getValue(), t = twice.get(e.getKey());
                    for (int i = 0; i < g.length; i++)
                        assertEquals(2 * g[i], t[i], 1e-6 * (1 + Math.abs(g[i])), ctx + " " + e.getKey() + "[" + i + "] accumulated twice");
                }
                m.zeroGrad();
            }
        } finally {
            org.dnonative.model.Threads.configure(before);
        }
    }

    /** Micro-batches of 3 and 1 pairs with weights 3/4 and 1/4 accumulate the gradients of one batch of 4. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"NATIVE", "FUSED", "LIBTORCH"})
    void weightedMicroBatchesAccumulateOneBatch(PairLoss.Kind kind) {
        TinyPairs data = new TinyPairs(21, false, 4);
        String ctx = data.context() + " " + kind;
        TrainOptions options = TrainOptions.adamW(1e-3, 0, 10, 0, 1.0);
        try (CausalLM whole = data.model(); CausalLM split = data.model();
             PolicyTrainer one = new PolicyTrainer(whole, options); PolicyTrainer two = new PolicyTrainer(split, options);
             PairLoss loss = PairLoss.create(kind, 1)) {
            double lossOfOne, lossOfTwo;
            try (SequenceBatch all = data.batch(0, 4)) {
                lossOfOne = one.accumulate(loss, all, data.ref(0, 4), data.targets(0, 4), TinyPairs.BETA, 1.0).loss();
            }
            try (SequenceBatch first = data.batch(0, 3); SequenceBatch last = data.batch(3, 4)) {
                lossOfTwo = 0.75 * two.accumulate(loss, first, data.ref(0, 3), data.targets(0, 3), TinyPairs.BETA, 0.75).loss()
                        + 0.25 * two.accumulate(loss, last, data.ref(3, 4), data.targets(3, 4), TinyPairs.BETA, 0.25).loss();
            }
            assertEquals(lossOfOne, lossOfTwo, 1e-6, ctx + " loss");
            TinyPairs.assertClose(TinyPairs.grads(whole), TinyPairs.grads(split), 1e-5, ctx);
            double normOfOne = one.step().gradNorm(), normOfTwo = two.step().gradNorm();
            assertEquals(normOfOne, normOfTwo, 1e-5 * normOfOne, ctx + " gradient norm");
        }
    }

    /**
     * step() clips the accumulated gradients to the global norm before AdamW: with the norm cut to
     * 1e-6 the clipped gradients are of the order of eps, so AdamW's first update
     * lr * g / (|g| + eps) is visibly smaller than the unclipped one (about lr * sign(g)). The
     * gradients are then dropped (undefined), as PyTorch's zero_grad leaves them by default.
     */
    @Test
    void stepClipsTheGradientNormThenTakesTheAdamWStepAndDropsTheGradients() {
        TinyPairs data = new TinyPairs(31, true, 2);
        double lr = 1e-2, maxNorm = 1e-6, eps = 1e-8;
        try (CausalLM m = data.model(); PolicyTrainer trainer = new PolicyTrainer(m, TrainOptions.adamW(lr, 0, 10, 0, maxNorm));
             PairLoss loss = PairLoss.create(PairLoss.Kind.NATIVE, 1); SequenceBatch batch = data.batch(0, 2)) {
            trainer.accumulate(loss, batch, data.ref(0, 2), null, TinyPairs.BETA, 1.0);
            Map<String, float[]> before = TinyPairs.values(m), grads = TinyPairs.grads(m);
            double sumSquares = 0;
            for (float[] g : grads.values()) for (float x : g) sumSquares += (double) x * x;
            double norm = Math.sqrt(sumSquares), coef = maxNorm / (norm + 1e-6);  // torch's clip_grad_norm_
            PolicyTrainer.StepResult s = trainer.step();
            assertEquals(1, s.step());
            assertEquals(lr, s.learningRate(), 1e-15);
            assertEquals(norm, s.gradNorm(), 1e-5 * norm, data.context() + " norm before clipping");
            Map<String, float[]> after = TinyPairs.values(m);
            double unclippedWouldDiffer = 0;
            for (String name : before.keySet()) {
                float[] p0 = before.get(name), g = grads.get(name), p1 = after.get(name);
                for (int i = 0; i < p0.length; i++) {
                    double clipped = g[i] * coef;
                    double want = p0[i] - lr * clipped / (Math.abs(clipped) + eps);
                    assertEquals(want, p1[i], 1e-4 * lr + 1e-7 * Math.abs(p0[i]), data.context() + " " + name + "[" + i + "]");
                    unclippedWouldDiffer = Math.max(unclippedWouldDiffer, Math.abs(p0[i] - lr * g[i] / (Math.abs(g[i]) + eps) - p1[i]));
                }
                assertFalse(m.parameters().get(name).grad().defined(), data.context() + " " + name + ": no gradient after the step (set to none)");
            }
            assertTrue(unclippedWouldDiffer > 0.1 * lr, data.context() + ": the test must tell clipped from unclipped, " + unclippedWouldDiffer);
        }
    }

    /** Two micro-batches of one pair per optimizer step, clipped, with decay: the chosen margin grows from 0. */
    @Test
    void trainingRaisesTheChosenMargin() {
        try (CausalLM m = CausalLM.load(Fixture.MODEL, CPU)) {
            Scorer scorer = new Scorer(m, 0, 4096);
            double[] refC = scorer.score(PROMPTS, CHOSEN).stream().mapToDouble(s -> s.logprob()).toArray();
            double[] refR = scorer.score(PROMPTS, REJECTED).stream().mapToDouble(s -> s.logprob()).toArray();
            TrainOptions o = TrainOptions.adamW(3e-3, 1, 8, 0.01, 1.0).withDecay(LrSchedule.Decay.LINEAR, 0.1);
            try (PolicyTrainer t = new PolicyTrainer(m, o); PairLoss loss = PairLoss.create(PairLoss.Kind.NATIVE, 1)) {
                PolicyTrainer.MicroResult first = null, last = null;
                for (int step = 0; step < 8; step++) {
                    for (int k = 0; k < 2; k++) {
                        try (SequenceBatch batch = new SequenceBatch(List.of(PROMPTS.get(k), PROMPTS.get(k)),
                                List.of(CHOSEN.get(k), REJECTED.get(k)), 0, CPU)) {
                            last = t.accumulate(loss, batch, new float[]{(float) refC[k], (float) refR[k]}, null, 0.1, 0.5);
                        }
                        if (first == null) first = last;
                    }
                    PolicyTrainer.StepResult r = t.step();
                    assertEquals(step + 1, r.step());
                    assertTrue(r.gradNorm() > 0);
                }
                assertEquals(8, t.steps());
                assertEquals(Math.log(2), first.loss(), 1e-4, "the policy starts equal to the reference");
                assertTrue(last.rewardMargin() > 0.05, "margin " + last.rewardMargin());
                assertTrue(last.loss() < first.loss());
            }
        }
    }

    /** Bad arguments are refused with a message that names them, before anything runs. */
    @Test
    void badMicroBatchesAreRefusedByName() {
        TinyPairs data = new TinyPairs(41, true, 2);
        try (CausalLM m = data.model(); PolicyTrainer t = new PolicyTrainer(m, TrainOptions.adamW(1e-3, 0, 10, 0, 1.0));
             PairLoss loss = PairLoss.create(PairLoss.Kind.NATIVE, 0); SequenceBatch batch = data.batch(0, 2);
             SequenceBatch odd = new SequenceBatch(List.of(data.prompts.get(0)), List.of(data.chosen.get(0)), 0, CPU)) {
            float[] ref = data.ref(0, 2);
            assertRefused("refLogps", () -> t.accumulate(loss, batch, new float[3], null, 0.1, 1));
            assertRefused("refLogps[1]", () -> t.accumulate(loss, batch, new float[]{0, Float.NaN, 0, 0}, null, 0.1, 1));
            assertRefused("softTargets", () -> t.accumulate(loss, batch, ref, new float[3], 0.1, 1));
            assertRefused("softTargets[0]", () -> t.accumulate(loss, batch, ref, new float[]{1.5f, 0}, 0.1, 1));
            assertRefused("beta", () -> t.accumulate(loss, batch, ref, null, 0, 1));
            assertRefused("weight", () -> t.accumulate(loss, batch, ref, null, 0.1, Double.NaN));
            assertRefused("even", () -> t.accumulate(loss, odd, new float[1], null, 0.1, 1));
            assertRefused("loss", () -> t.accumulate(null, batch, ref, null, 0.1, 1));
            m.parameters().forEach((name, p) -> assertFalse(p.grad().defined(), "a refused micro-batch leaves no gradient: " + name));
        }
        assertRefused("kind", () -> PairLoss.create(null, 0));
        assertRefused("threads", () -> PairLoss.create(PairLoss.Kind.FUSED, -1));
    }

    static void assertRefused(String named, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, named);
        assertTrue(e.getMessage().contains(named), "message should name " + named + ": " + e.getMessage());
    }

    @Test
    void adamWOptionsHoldTheDefaultsAndRefuseBadValues() {
        TrainOptions o = TrainOptions.adamW(5e-5, 2, 20, 0.01, 1.0);
        assertEquals(0.9, o.beta1());
        assertEquals(0.999, o.beta2());
        assertEquals(1e-8, o.eps());
        assertEquals(LrSchedule.Decay.LINEAR, o.decay());
        assertEquals(0.0, o.minLrRatio());
        TrainOptions cosine = o.withDecay(LrSchedule.Decay.COSINE, 0.1).withBetas(0.9, 0.98);
        assertEquals(LrSchedule.Decay.COSINE, cosine.decay());
        assertEquals(0.98, cosine.beta2());
        assertEquals(o.learningRate(), cosine.learningRate());
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.adamW(0, 0, 10, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.adamW(1e-3, 0, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.adamW(1e-3, 0, 10, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.adamW(1e-3, 0, 10, 0, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> o.withBetas(1.0, 0.999));
    }

    @Test
    void scheduleWarmsUpThenDecays() {
        LrSchedule lin = new LrSchedule(1.0, 4, 14, LrSchedule.Decay.LINEAR, 0.0);
        assertEquals(0.2, lin.lr(0), 1e-12);
        assertEquals(1.0, lin.lr(4), 1e-12);
        assertEquals(0.5, lin.lr(9), 1e-12);
        assertEquals(0.0, lin.lr(14), 1e-12);
        LrSchedule cos = new LrSchedule(1.0, 0, 10, LrSchedule.Decay.COSINE, 0.1);
        assertEquals(1.0, cos.lr(0), 1e-12);
        assertEquals(0.55, cos.lr(5), 1e-12);
        assertEquals(0.1, cos.lr(10), 1e-12);
    }

    /**
     * The kernel path of AdamW (FusedAdamW) against the libtorch-ops path on the same model and
     * gradients, three steps with decay, clipping's scale and the gradients zeroed: equal to a few
     * float32 ulps (libtorch's vectorised square root is not always correctly rounded, the kernel's
     * is). Measured here, so that the Javadoc's "agree to float32 rounding" has a number behind it.
     */
    @Test
    void adamWKernelAgreesWithTheLibtorchOpsToFloat32Rounding() {
        TinyPairs data = new TinyPairs(41, true, 2);
        try (CausalLM a = data.model(); CausalLM b = data.model();
             AdamW fused = new AdamW(a.parameters(), 0.9, 0.999, 1e-8, 0.01, true);
             AdamW ops = new AdamW(b.parameters(), 0.9, 0.999, 1e-8, 0.01, false)) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(41);
            double worst = 0;
            for (int step = 1; step <= 3; step++) {
                for (String name : a.parameters().keySet()) {
                    Tensor pa = a.parameters().get(name), pb = b.parameters().get(name);
                    float[] g = new float[(int) pa.numel()];
                    for (int i = 0; i < g.length; i++) g[i] = (float) (0.01 * (r.nextDouble() - 0.5) + 1e-4);
                    try (PointerScope s = new PointerScope()) {
                        Tensor gt = org.dnonative.model.Tensors.fromFloats(g, pa.sizes().vec().get());
                        pa.mutable_grad().put(gt.clone());
                        pb.mutable_grad().put(gt.clone());
                    }
                }
                fused.step(1e-2, 0.5f, true);
                ops.step(1e-2, 0.5f, true);
                Map<String, float[]> va = TinyPairs.values(a), vb = TinyPairs.values(b);
                for (String name : va.keySet()) {
                    float[] x = va.get(name), y = vb.get(name);
                    for (int i = 0; i < x.length; i++) {
                        double ulps = Math.abs(x[i] - y[i]) / Math.ulp(Math.max(Math.abs(x[i]), 1e-3f));
                        worst = Math.max(worst, ulps);
                        assertTrue(ulps <= 4 * step, "seed 41 step " + step + " " + name + "[" + i + "]: kernel " + x[i] + " vs libtorch ops " + y[i]);
                    }
                    for (float gx : TinyPairs.grads(a).get(name)) assertEquals(0f, gx, name + " gradient after the kernel step");
                    for (float gy : TinyPairs.grads(b).get(name)) assertEquals(0f, gy, name + " gradient after the ops step");
                }
            }
            System.out.println("AdamW kernel vs libtorch ops, 3 steps: at most " + worst + " float32 ulps apart");
        }
    }

    /**
     * step() on the host (the clipping coefficient in clip_grad_norm_'s float32 ops, applied inside
     * the AdamW kernel's pass) gives bitwise the parameters of the composition it replaced:
     * torch.clip_grad_norm_, then AdamW in libtorch ops. Three steps, with decay, the norm clipped.
     */
    @Test
    void hostStepIsBitwiseClipGradNormThenAdamWInLibtorchOps() {
        TinyPairs data = new TinyPairs(45, true, 2);
        double lr = 1e-2, maxNorm = 0.05;
        try (CausalLM a = data.model(); CausalLM b = data.model();
             PolicyTrainer trainer = new PolicyTrainer(a, TrainOptions.adamW(lr, 0, 10, 0.01, maxNorm));
             AdamW ops = new AdamW(b.parameters(), 0.9, 0.999, 1e-8, 0.01, false);
             PairLoss loss = PairLoss.create(PairLoss.Kind.NATIVE, 1); SequenceBatch batch = data.batch(0, 2)) {
            assertEquals(TrainOptions.adamW(lr, 0, 10, 0.01, maxNorm).beta1(), 0.9);
            b.zeroGrad();
            try (PolicyTrainer forB = new PolicyTrainer(b, TrainOptions.adamW(lr, 0, 10, 0.01, maxNorm))) {
                for (int step = 1; step <= 3; step++) {
                    trainer.accumulate(loss, batch, data.ref(0, 2), null, TinyPairs.BETA, 1.0);
                    double lrNow = TrainOptions.adamW(lr, 0, 10, 0.01, maxNorm).schedule().lr(step - 1);
                    PolicyTrainer.StepResult s = trainer.step();
                    forB.accumulate(loss, batch, data.ref(0, 2), null, TinyPairs.BETA, 1.0);
                    java.util.List<Tensor> withGrad = new java.util.ArrayList<>(b.parameters().values());
                    double norm = torch.clip_grad_norm_(Tensors.vector(withGrad), maxNorm);
                    assertTrue(norm > maxNorm, "the test must clip: norm " + norm);
                    assertEquals(norm, s.gradNorm(), 0.0, "step " + step + " norm");
                    ops.step(lrNow, 1f, true);
                    Map<String, float[]> va = TinyPairs.values(a), vb = TinyPairs.values(b);
                    for (String name : va.keySet())
                        assertArrayEquals(vb.get(name), va.get(name), "seed 45 step " + step + " " + name);
                }
            }
        }
    }

    /** A NaN in one gradient stops the step before any parameter changes, naming the parameter. */
    @Test
    void aNonFiniteGradientIsRefusedBeforeAnyParameterChanges() {
        TinyPairs data = new TinyPairs(43, true, 2);
        try (CausalLM m = data.model(); PolicyTrainer trainer = new PolicyTrainer(m, TrainOptions.adamW(1e-2, 0, 10, 0, 1.0));
             PairLoss loss = PairLoss.create(PairLoss.Kind.NATIVE, 1); SequenceBatch batch = data.batch(0, 2)) {
            trainer.accumulate(loss, batch, data.ref(0, 2), null, TinyPairs.BETA, 1.0);
            String victim = "model.layers.0.mlp.down_proj.weight";
            try (PointerScope s = new PointerScope()) {
                m.parameters().get(victim).grad().view(-1).narrow(0, 3, 1).fill_(new Scalar(Float.NaN));
            }
            Map<String, float[]> before = TinyPairs.values(m);
            IllegalStateException e = assertThrows(IllegalStateException.class, trainer::step);
            assertTrue(e.getMessage().contains(victim) && e.getMessage().contains("not finite"), e.getMessage());
            Map<String, float[]> after = TinyPairs.values(m);
            for (String name : before.keySet()) assertArrayEquals(before.get(name), after.get(name), name + " changed");
        }
    }

    @Test
    void weightDecaySkipsNormsAndBiases() {
        ModelConfig qwen = ModelConfig.of(ModelConfig.Architecture.QWEN2, 64, 32, 48, 1, 4, 2, 64, false, null, 1, 0);
        try (CausalLM m = CausalLM.random(qwen, 3, CPU)) {
            Map<String, float[]> before = TinyPairs.values(m);
            try (PointerScope s = new PointerScope()) {
                Tensor zero = null;
                for (Tensor p : m.parameters().values()) zero = zero == null ? p.sum().mul(new Scalar(0)) : zero.add(p.sum().mul(new Scalar(0)));
                zero.backward();
            }
            try (AdamW opt = new AdamW(m.parameters(), 0.9, 0.999, 1e-8, 0.1)) {
                assertTrue(opt.noDecayNames().contains("model.layers.0.self_attn.q_proj.bias"));
                assertTrue(opt.noDecayNames().contains("model.norm.weight"));
                opt.step(1.0);
            }
            Map<String, float[]> after = TinyPairs.values(m);
            for (String name : before.keySet()) {
                float[] a = before.get(name), b = after.get(name);
                boolean decays = m.parameters().get(name).dim() >= 2;
                for (int i = 0; i < a.length; i++) assertEquals(decays ? a[i] * 0.9f : a[i], b[i], 1e-6, name);
            }
        }
    }

    @Test
    void qwen2ConfigBuildsAndUsesBiases() {
        ModelConfig qwen = ModelConfig.of(ModelConfig.Architecture.QWEN2, 128, 64, 96, 2, 4, 2, 128, false, null, 1, 0);
        assertTrue(qwen.attentionBias());
        try (CausalLM m = CausalLM.random(qwen, 7, CPU)) {
            assertTrue(m.parameters().containsKey("model.layers.1.self_attn.k_proj.bias"));
            assertFalse(m.parameters().containsKey("model.layers.1.self_attn.o_proj.bias"));
            assertTrue(m.parameters().containsKey("lm_head.weight"));
            long[] ids = {3, 4, 5, 6};
            float[][] before = m.logitsOf(ids);
            try (NoGradGuard g = new NoGradGuard()) {
                m.parameters().get("model.layers.0.self_attn.q_proj.bias").fill_(new Scalar(0.5));
                m.parameters().get("model.layers.0.self_attn.k_proj.bias").fill_(new Scalar(-0.3));
                m.parameters().get("model.layers.0.self_attn.v_proj.bias").fill_(new Scalar(0.2));
            }
            float[][] after = m.logitsOf(ids);
            double diff = 0;
            for (int t = 0; t < ids.length; t++) for (int j = 0; j < 128; j++) diff += Math.abs(before[t][j] - after[t][j]);
            assertTrue(diff > 1e-3, "q/k/v biases change the output");
        }
    }

    @Test
    void bf16AutocastRunsMatmulsInBf16WithFloat32MasterWeights() {
        try (CausalLM m = CausalLM.load(Fixture.MODEL, CPU)) {
            long[] ids = {1, 376, 265, 201, 57, 74, 263};
            float[][] full = m.logitsOf(ids);
            float[] mixed;
            try (Autocast ac = Autocast.bf16(CPU); NoGradGuard g = new NoGradGuard(); PointerScope s = new PointerScope()) {
                Tensor h = m.hidden(Tensors.fromLongs(ids, 1, ids.length), null, null, null);
                assertEquals("Float", h.scalar_type().toString());
                mixed = Tensors.toFloats(m.logits(h));
            }
            assertFalse(torch.is_autocast_enabled(torch.DeviceType.CPU));
            assertEquals("Float", m.lmHeadWeight().scalar_type().toString());
            double worst = 0, scale = 0;
            int v = m.config().vocabSize();
            for (int t = 0; t < ids.length; t++) for (int j = 0; j < v; j++) {
                worst = Math.max(worst, Math.abs(full[t][j] - mixed[t * v + j]));
                scale = Math.max(scale, Math.abs(full[t][j]));
            }
            assertTrue(worst > 0, "autocast changed the arithmetic");
            assertTrue(worst < 0.05 * scale, "bf16 error " + worst + " vs logit scale " + scale);
        }
    }
}
