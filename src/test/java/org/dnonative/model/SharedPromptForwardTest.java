package org.dnonative.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link CausalLM#hiddenSharingPrompts} against {@link CausalLM#hidden} on the same right-padded
 * sequences: the hidden states at every real position, and the gradients of every parameter for a
 * random linear function of them, agree up to float32 rounding. Prompts of different lengths, one
 * prompt continued by four sequences, one by one, responses of length 1 to 9 (one empty); on
 * random Llama, Qwen2 (q/k/v biases), Qwen3 (q/k norms) and Mistral (a window of 6, shorter than the
 * sequences) models and on the Gemma 3 (two RoPEs, sliding and full layers, its norms) and sliding
 * Mistral fixtures. Random inputs from a fixed seed, printed on failure.
 */
class SharedPromptForwardTest {
    static final Device CPU = new Device(torch.DeviceType.CPU);

    private static CausalLM model(String id, long seed) {
        if (id.contains("/")) return CausalLM.load(ArchitectureFixture.of(id).dir(), CPU);
        return CausalLM.random(FusedDecodeTest.config(id), seed, CPU);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "qwen2", "qwen3", "mistral-window", "gemma3-tiny/f32", "mistral-sliding-tiny/f32"})
    void sharedPromptsGiveTheSameStatesAndGradients(String id) {
        long seed = 23;
        try (CausalLM m = model(id, seed); PointerScope scope = new PointerScope()) {
            int vocab = m.config().vocabSize();
            SplittableRandom r = new SplittableRandom(seed);
            int[][] distinct = {r.ints(7, 3, vocab).toArray(), r.ints(12, 3, vocab).toArray(), r.ints(3, 3, vocab).toArray()};
            int[] promptOf = {0, 1, 0, 2, 0, 1, 0};   // prompt 0 four times, 1 twice, 2 once
            int[] responseLengths = {5, 9, 1, 4, 0, 6, 2};
            List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
            for (int i = 0; i < promptOf.length; i++) {
                prompts.add(distinct[promptOf[i]]);
                responses.add(r.ints(responseLengths[i], 3, vocab).toArray());
            }
            String ctx = id + " (seed " + seed + ")";
            try (SequenceBatch batch = new SequenceBatch(prompts, responses, 0, CPU); SequenceBatch.SharedPrompts s = batch.sharedPrompts()) {
                assertEquals(3, s.prompts(), ctx);
                assertEquals(3, batch.distinctPrompts(), ctx);
                long h = m.config().hiddenSize();
                float[] weights = new float[(int) (batch.batch() * batch.length() * h)];
                for (int i = 0; i < weights.length; i++) weights[i] = (float) r.nextDouble(-1, 1);
                // padding slots weigh nothing: their states differ between the two layouts
                for (int b = 0; b < batch.batch(); b++)
                    for (int t = batch.promptLengths()[b] + batch.responseLengths()[b]; t < batch.length(); t++)
                        for (int k = 0; k < h; k++) weights[(int) ((b * batch.length() + t) * h + k)] = 0f;
                Tensor w = Tensors.fromFloats(weights, batch.batch(), batch.length(), h);

                Tensor plain = m.hidden(batch.inputIds(), null, null, null);
                plain.mul(w).sum().backward(new Tensor(), new BoolOptional(), false, new TensorArrayRefOptional());
                Map<String, float[]> plainGrads = grads(m);
                float[] plainStates = Tensors.toFloats(plain.mul(w.ne(new org.bytedeco.pytorch.Scalar(0)).to(torch.ScalarType.Float)).detach());
                m.zeroGrad();

                Tensor shared = m.hiddenSharingPrompts(s);
                assertArrayEquals(plain.sizes().vec().get(), shared.sizes().vec().get(), ctx + ": the layout of hidden()");
                shared.mul(w).sum().backward(new Tensor(), new BoolOptional(), false, new TensorArrayRefOptional());
                Map<String, float[]> sharedGrads = grads(m);
                float[] sharedStates = Tensors.toFloats(shared.mul(w.ne(new org.bytedeco.pytorch.Scalar(0)).to(torch.ScalarType.Float)).detach());
                m.zeroGrad();

                double scale = 0, worst = 0;
                for (float v : plainStates) scale = Math.max(scale, Math.abs(v));
                for (int i = 0; i < plainStates.length; i++) worst = Math.max(worst, Math.abs(plainStates[i] - sharedStates[i]));
                assertTrue(scale > 0.1, ctx + ": states of some size");
                assertTrue(worst <= 2e-5 * scale, ctx + ": states differ by " + worst + " of " + scale);
                for (Map.Entry<String, float[]> e : plainGrads.entrySet()) {
                    float[] a = e.getValue(), b = sharedGrads.get(e.getKey());
                    double gs = 0, gd = 0;
                    for (int i = 0; i < a.length; i++) {
                        gs = Math.max(gs, Math.abs(a[i]));
                        gd = Math.max(gd, Math.abs(a[i] - b[i]));
                    }
                    assertTrue(gs > 0, ctx + ": " + e.getKey() + " has a gradient");
                    assertTrue(gd <= 1e-4 * gs, ctx + ": " + e.getKey() + " gradients differ by " + gd + " of " + gs);
                }
            }
        }
    }

    private static Map<String, float[]> grads(CausalLM m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.parameters().forEach((n, p) -> {
            if (p.grad().defined()) out.put(n, Tensors.toFloats(p.grad()));
        });
        return out;
    }
}
