package org.dnonative.dno.config;

import java.util.List;

/**
 * The built-in task family (arithmetic with operands up to {@code maxOperand}), the small policy and
 * its supervised warm start on imperfect demonstrations.
 *
 * @param nearMissRate share of demonstrations with a near-miss (wrong) answer
 * @param refusalRate  share of demonstrations that give no answer ({@code ?}), which the built-in oracle grades
 *                     as wrong: a bad habit of the warm start that shares no token with a right answer (0 = none)
 * @param styleWeights demonstration styles: bare, sentence, equation weights
 */
public record EmbeddedConfig(int maxOperand, String operators, int hiddenSize, int intermediateSize, int layers, int heads,
                             int kvHeads, long modelSeed, int sftSteps, int sftBatch, double sftLearningRate, double nearMissRate,
                             double refusalRate,
                             List<Double> styleWeights) {
    public EmbeddedConfig {
        styleWeights = styleWeights == null ? null : List.copyOf(styleWeights);
        new Checks().atLeast(maxOperand, 1, "max_operand")
                .require(operators != null && operators.matches("[+\\-*]+"), "operators", "must be made of + - *, was " + operators)
                .require(hiddenSize >= 1 && heads >= 1 && kvHeads >= 1 && hiddenSize % heads == 0 && heads % kvHeads == 0,
                        "hidden_size", "must be a multiple of heads, and heads of kv_heads (was " + hiddenSize + ", " + heads + ", " + kvHeads + ")")
                .atLeast(layers, 1, "layers").atLeast(intermediateSize, 1, "intermediate_size")
                .atLeast(sftSteps, 0, "sft_steps").atLeast(sftBatch, 1, "sft_batch").positive(sftLearningRate, "sft_learning_rate")
                .in(nearMissRate, 0, 1, false, true, "near_miss_rate")
                .in(refusalRate, 0, 1, false, true, "refusal_rate")
                .require(nearMissRate + refusalRate < 1, "refusal_rate", "plus near_miss_rate must be < 1, was " + (nearMissRate + refusalRate))
                .require(styleWeights != null && styleWeights.size() == 3 && styleWeights.stream().allMatch(w -> w != null && w >= 0)
                                && styleWeights.stream().mapToDouble(Double::doubleValue).sum() > 0,
                        "style_weights", "must be 3 non-negative weights (bare, sentence, equation) with a positive sum")
                .throwIfAny();
    }

    static final double REFUSAL_RATE = 0.4;

    public static EmbeddedConfig defaults() {
        // A policy with the skill and a bad habit: 1500 steps on demonstrations of which REFUSAL_RATE
        // give no answer ("?"), the rest correct in a nearly even mix of the three styles (docs/TRAIN.md,
        // "The embedded default run"). It answers most prompts it answers right, but refuses more than
        // half of the time at temperature 0.7: room for DNO, by a habit the oracle grades as wrong.
        return new EmbeddedConfig(9, "+-", 64, 128, 2, 4, 2, 7, 1500, 32, 3e-3, 0.0, REFUSAL_RATE, List.of(0.35, 0.35, 0.3));
    }
}
