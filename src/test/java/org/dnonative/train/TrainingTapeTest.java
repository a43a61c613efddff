package org.dnonative.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.kernel.AmxLinear;
import org.dnonative.kernel.ReferenceDnoLoss;
import org.dnonative.model.CausalLM;
import org.dnonative.model.ModelConfig;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.Tensors;
import org.dnonative.model.Threads;
import org.dnonative.model.TrainingTape;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The training step's linear layers on AMX ({@link TrainingTape}: the products outside autograd,
 * their backward by hand between pieces of autograd) against a float64 reference (every gradient within 1e-4 of its largest element; measured
 * 1e-5 to 4e-5 on this test's cases, 2026-12-03, Intel Xeon with AMX): the same model
 * cast to float64 (its RMSNorm and softmax stay float32, as the model computes them: ~1e-7, far
 * below the bf16x3 products' ~5e-6), its logits through the float64 DNO loss, and libtorch's
 * float64 backward. Every loss kind; a Llama with tied embeddings and a Qwen2 (q/k/v biases) with
 * its own lm_head, whose k and v projections (128 x 256) stay on libtorch while q, o, the MLP and
 * the lm_head go on the tape; prompts shared by pairs; 1 and 2 compute threads (2: the pairs split
 * over two parts, their weight gradients one product over both parts' rows); a second run with
 * the same thread count is bitwise the first.
 */
class TrainingTapeTest {
    static final Device CPU = new Device(torch.DeviceType.CPU);
    static final int VOCAB = 300;

    static ModelConfig config(boolean tied) {
        return tied
                ? ModelConfig.of(ModelConfig.Architecture.LLAMA, VOCAB, 256, 320, 2, 4, 2, 64, true, null, 1, 0)
                : ModelConfig.of(ModelConfig.Architecture.QWEN2, VOCAB, 256, 320, 2, 4, 2, 64, false, null, 1, 0);
    }

    @ParameterizedTest(name = "{0} tied={1} soft={2}")
    @CsvSource({"NATIVE, true, false", "NATIVE, false, true", "FUSED, true, true", "FUSED, false, false", "LIBTORCH, false, false"})
    void theLayersOnAmxGiveTheFloat64ReferenceGradients(PairLoss.Kind kind, boolean tied, boolean soft) {
        Assumptions.assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        long seed = 77;
        Random rnd = new Random(seed);
        List<int[]> distinct = List.of(rnd.ints(6, 1, VOCAB).toArray(), rnd.ints(11, 1, VOCAB).toArray(), rnd.ints(3, 1, VOCAB).toArray());
        int[] promptOf = {0, 1, 0, 2};   // 4 pairs, two of them to prompt 0
        List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
        for (int side = 0; side < 2; side++)
            for (int p : promptOf) {
                prompts.add(distinct.get(p));
                responses.add(rnd.ints(1 + rnd.nextInt(9), 1, VOCAB).toArray());
            }
        float[] ref = new float[8], targets = {0.9f, 1f, 0.7f, 0.2f};
        for (int i = 0; i < 8; i++) ref[i] = (float) (-5.7 * responses.get(i).length + 2 * rnd.nextGaussian());
        double beta = 0.25, weight = 0.75;
        String ctx = "seed " + seed + " " + kind + " tied=" + tied + " soft=" + soft;
        int before = Threads.count();
        try (CausalLM m = CausalLM.random(config(tied), seed, CPU); PolicyTrainer t = new PolicyTrainer(m, TrainOptions.adamW(1e-3, 0, 10, 0, 0));
             PairLoss loss = PairLoss.create(kind, 1); PointerScope scope = new PointerScope();
             SequenceBatch batch = new SequenceBatch(prompts, responses, 0, CPU)) {
            assertTrue(TrainingTape.applies(m), ctx + ": a float32 CPU model with a 300 x 256 lm_head, on AMX");
            Reference want = reference(m, batch, ref, soft ? targets : null, beta, weight);
            // 2 threads: the pairs split over two parts, whose weight gradients are one product over both parts' rows
            Map<Integer, Map<String, float[]>> seen = new java.util.HashMap<>();
            for (int threads : new int[] {1, 2, 2, 1}) {
                Threads.configure(threads);
                PolicyTrainer.MicroResult r = t.accumulate(loss, batch, ref, soft ? targets : null, beta, weight);
                assertEquals(want.loss, r.loss(), 2e-5, ctx + " threads=" + threads + " loss");
                Map<String, float[]> got = TinyPairs.grads(m);
                TinyPairs.assertClose(want.grads, got, 1e-4, ctx + " threads=" + threads + " vs float64:");
                Map<String, float[]> earlier = seen.putIfAbsent(threads, got);
                if (earlier != null)
                    for (String name : earlier.keySet())
                        assertArrayEquals(earlier.get(name), got.get(name), ctx + " threads=" + threads + " " + name + ": a second run differs");
                m.zeroGrad();
            }
            // into gradients already accumulated (a step of two micro-batches): the same batch twice, twice the gradients
            for (int threads : new int[] {1, 2}) {
                Threads.configure(threads);
                t.accumulate(loss, batch, ref, soft ? targets : null, beta, weight);
                t.accumulate(loss, batch, ref, soft ? targets : null, beta, weight);
                Map<String, float[]> twice = TinyPairs.grads(m), once = seen.get(threads);
                for (Map.Entry<String, float[]> e : once.entrySet()) {
                    float[] g = e.getValue(), tw = twice.get(e.getKey());
                    for (int i = 0; i < g.length; i++)
                        assertEquals(2 * g[i], tw[i], 1e-6 * (1 + Math.abs(g[i])),
                                ctx + " threads=" + threads + " " + e.getKey() + "[" + i + "] accumulated twice");
                }
                m.zeroGrad();
            }
            Map<String, float[]> first = seen.get(1);
            // the products really ran on the tape: libtorch's float32 products round differently
            Threads.configure(1);
            TrainingTape.setEnabled(false);
            try {
                t.accumulate(loss, batch, ref, soft ? targets : null, beta, weight);
            } finally {
                TrainingTape.setEnabled(true);
            }
            Map<String, float[]> libtorch = TinyPairs.grads(m);
            m.zeroGrad();
            TinyPairs.assertClose(want.grads, libtorch, 1e-4, ctx + " libtorch vs float64:");
            String q = "model.layers.0.self_attn.q_proj.weight";
            assertTrue(first.containsKey(q), ctx + ": " + first.keySet());
            assertFalse(Arrays.equals(first.get(q), libtorch.get(q)), ctx + ": " + q + " is libtorch's bits: the tape did not run");
        } finally {
            Threads.configure(before);
            TrainingTape.setEnabled(true);
        }
    }

    record Reference(double loss, Map<String, float[]> grads) {}

    /** The float64 model's loss and parameter gradients on the plain forward's full logits. */
    static Reference reference(CausalLM m, SequenceBatch batch, float[] ref, float[] targets, double beta, double weight) {
        try (CausalLM m64 = m.inferenceCopy(torch.ScalarType.Double)) {
            for (Tensor p : m64.parameters().values()) p.requires_grad_(true);
            Tensor logits = m64.logits(m64.hidden(batch.inputIds(), null, null, null)).contiguous();
            int n = (int) logits.size(0), len = (int) logits.size(1), v = (int) logits.size(2);
            double[] l64 = new double[n * len * v];
            logits.detach().to(torch.ScalarType.Double).contiguous().data_ptr_double().get(l64);
            ReferenceDnoLoss want = new ReferenceDnoLoss(n / 2, len, v, l64, Tensors.toLongs(batch.labels()), TinyPairs.widen(ref),
                    targets == null ? null : TinyPairs.widen(targets), beta, false, SequenceBatch.IGNORE, weight);
            Tensor grad;
            try (org.bytedeco.javacpp.DoublePointer dp = new org.bytedeco.javacpp.DoublePointer(want.grad)) {
                grad = torch.from_blob(dp, new long[]{n, len, v}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Double)).clone();
            }
            logits.backward(grad, new BoolOptional(), false, new TensorArrayRefOptional());
            Map<String, float[]> grads = new LinkedHashMap<>();
            m64.parameters().forEach((name, p) -> grads.put(name, Tensors.toFloats(p.grad().to(torch.ScalarType.Float))));
            return new Reference(want.loss, grads);
        }
    }

    /**
     * libtorch's bf16 matmul (oneDNN's AMX kernels on this CPU, which end with TILERELEASE) and then
     * the project's AMX products on the same thread: the kernel loads its tile configuration per
     * work block, so this runs (it used to fault with SIGILL, killing the JVM, when the
     * configuration was kept per thread).
     */
    @Test
    void amxProductsRunAfterLibtorchReleasedTheTiles() {
        Assumptions.assumeTrue(AmxLinear.available(), AmxLinear::whyNotAvailable);
        try (PointerScope scope = new PointerScope()) {
            Tensor a = torch.randn(new long[]{256, 256}).to(torch.ScalarType.BFloat16);
            Tensor before = torch.matmul(a, a).to(torch.ScalarType.Float);
            float[] x = new float[64 * 64];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
            try (org.bytedeco.javacpp.FloatPointer p = new org.bytedeco.javacpp.FloatPointer(x);
                 org.bytedeco.javacpp.FloatPointer y = new org.bytedeco.javacpp.FloatPointer(64 * 64)) {
                for (int round = 0; round < 2; round++) {
                    AmxLinear.gemm(false, true, 64, 64, 64, 1f, p.address(), 64, p.address(), 64, 0f, y.address(), 64, 1);
                    torch.matmul(a, a);   // releases the tiles again
                }
                double dot = 0;
                for (int k = 0; k < 64; k++) dot += (double) x[k] * x[64 + k];
                assertEquals(dot, y.get(1), 1e-4 * 64, "y[0][1]");
            }
            assertTrue(before.isfinite().all().item_bool());
        }
    }

    @Test
    void theDemoSizedPolicyTrainsWithoutTheTape() {
        try (CausalLM m = CausalLM.random(TinyPairs.config(true), 5, CPU)) {
            assertFalse(TrainingTape.applies(m), "a 61 x 32 lm_head: libtorch's products, as the documented demo tables were made");
            assertEquals(null, TrainingTape.open(m, 1));
        }
    }
}
