package org.dnonative.dno.embedded;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.dnonative.dno.config.EmbeddedConfig;
import org.dnonative.model.CausalLM;
import org.dnonative.model.ModelConfig;
import org.dnonative.model.Policy;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceBatch;
import org.dnonative.oracle.builtin.AnswerStyle;
import org.dnonative.oracle.builtin.ArithmeticTask;
import org.dnonative.oracle.builtin.ArithmeticTasks;
import org.dnonative.train.LrSchedule;
import org.dnonative.train.PolicyTrainer;
import org.dnonative.train.TrainOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * The embedded default run's starting policy: a small Llama-architecture model with the
 * character-level tokenizer of {@link CharTokenizer}, randomly initialised and then warm-started by
 * supervised fine-tuning on imperfect demonstrations of the built-in arithmetic tasks. By default
 * (EmbeddedConfig.defaults()) 40% of them refuse ({@code ?}, graded as wrong) and the rest are correct
 * in a nearly even mix of styles: a policy that has the skill but a bad habit (at temperature 0.7 it
 * refuses more than half of the time), far from the cyclic oracle's equilibrium ("always correct,
 * each style 1/3") in correctness and close to it in style: something for DNO to improve. Near
 * misses ({@code nearMissRate}) and other style weights are there for experiments.
 */
public final class EmbeddedModel {
    private EmbeddedModel() {}

    public static ModelConfig modelConfig(EmbeddedConfig e) {
        int vocab = CharTokenizer.SPECIALS.size() + CharTokenizer.ALPHABET.length();
        return ModelConfig.of(ModelConfig.Architecture.LLAMA, vocab, e.hiddenSize(), e.intermediateSize(), e.layers(),
                e.heads(), e.kvHeads(), 64, true, null, CharTokenizer.EOS_ID, CharTokenizer.PAD_ID);
    }

    /** The randomly initialised policy (deterministic for {@code modelSeed}). */
    public static Policy randomPolicy(EmbeddedConfig e, Device device) {
        CausalLM model = CausalLM.random(modelConfig(e), e.modelSeed(), device);
        return Policy.of(model, CharTokenizer.tokenizer(), CharTokenizer.chatTemplate());
    }

    public static ArithmeticTasks tasks(EmbeddedConfig e) {
        return new ArithmeticTasks(e.maxOperand(), e.operators());
    }

    /** One demonstration: a prompt and a (possibly wrong) response. */
    public record Demo(String prompt, String response) {}

    /** The imperfect demonstrations, drawn over the whole task family with {@code seed}. */
    public static List<Demo> demonstrations(EmbeddedConfig e, int count, long seed) {
        List<ArithmeticTask> all = tasks(e).all();
        SplittableRandom rng = new SplittableRandom(seed);
        double[] w = e.styleWeights().stream().mapToDouble(Double::doubleValue).toArray();
        double total = w[0] + w[1] + w[2];
        List<Demo> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ArithmeticTask task = all.get(rng.nextInt(all.size()));
            double u = rng.nextDouble() * total;
            AnswerStyle style = u < w[0] ? AnswerStyle.BARE : u < w[0] + w[1] ? AnswerStyle.SENTENCE : AnswerStyle.EQUATION;
            double v = rng.nextDouble();
            String response = v < e.nearMissRate() ? ArithmeticTasks.nearMiss(task, style, rng)
                    : v < e.nearMissRate() + e.refusalRate() ? ArithmeticTasks.REFUSAL : style.render(task);
            out.add(new Demo(task.prompt(), response));
        }
        return out;
    }

    /**
     * Supervised warm start in place: {@code sftSteps} AdamW steps of token-level cross-entropy on
     * the responses (eos included) of fresh demonstrations, cosine-decayed learning rate.
     * Deterministic for a seed and a fixed libtorch thread count.
     *
     * @return the mean loss of the last tenth of the steps
     */
    public static double warmStart(Policy policy, EmbeddedConfig e, long seed, IntConsumer onStep) {
        int steps = e.sftSteps();
        if (steps == 0) return Double.NaN;
        List<Demo> demos = demonstrations(e, steps * e.sftBatch(), seed);
        TrainOptions options = TrainOptions.adamW(e.sftLearningRate(), Math.max(1, steps / 20), steps, 0.0, 1.0)
                .withDecay(LrSchedule.Decay.COSINE, 0.1).withBetas(0.9, 0.98);
        double tail = 0;
        int tailCount = 0;
        try (PolicyTrainer trainer = new PolicyTrainer(policy.model(), options)) {
            for (int s = 0; s < steps; s++) {
                List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
                for (Demo d : demos.subList(s * e.sftBatch(), (s + 1) * e.sftBatch())) {
                    prompts.add(policy.encodeUserPrompt(d.prompt()));
                    responses.add(withEos(policy.tokenizer().encode(d.response())));
                }
                double loss;
                try (PointerScope scope = new PointerScope();
                     SequenceBatch batch = new SequenceBatch(prompts, responses, policy.padId(), policy.model().device())) {
                    Tensor tokenLogprobs = Scorer.responseLogprobs(policy.model(), batch, trainer.hidden(batch));
                    Tensor nll = tokenLogprobs.mean().neg();
                    nll.backward();
                    loss = nll.item_double();
                }
                trainer.step();
                if (s >= steps - Math.max(1, steps / 10)) { tail += loss; tailCount++; }
                if (onStep != null) onStep.accept(s + 1);
            }
        }
        return tail / tailCount;
    }

    public static int[] withEos(int[] ids) {
        int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = CharTokenizer.EOS_ID;
        return out;
    }

}
