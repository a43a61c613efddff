package org.dnonative.dno.stage;

import org.dnonative.dno.Progress;
import org.dnonative.dno.WinRates;
import org.dnonative.dno.config.EvaluationConfig;
import org.dnonative.dno.config.SamplingConfig;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;
import org.dnonative.oracle.PreferenceOracle;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluation of policies on held-out prompts: their samples, the win-rate of one against another by
 * an oracle (with a 95% interval over prompts), and what the oracle can measure of each (its
 * diagnostics: exploitability where the game is known). The evaluation stage of a run and the
 * {@code eval} command both use it.
 */
public final class Evaluation {
    private final EvaluationConfig eval;
    private final SamplingConfig sampling;
    private final boolean chatTemplate;
    private final Progress.Factory bars;

    /** @param sampling top-p, top-k, the token limit and the batch size of evaluation sampling */
    public Evaluation(EvaluationConfig eval, SamplingConfig sampling, boolean chatTemplate, Progress.Factory bars) {
        this.eval = eval;
        this.sampling = sampling;
        this.chatTemplate = chatTemplate;
        this.bars = bars;
    }

    /**
     * The policy's evaluation samples per prompt. Every policy is sampled with the same seed: common
     * random numbers make the win-rates between them less noisy.
     */
    public Map<String, List<String>> sample(Policy p, List<String> prompts, long seed, String task) {
        List<List<Completion>> all = Generation.generate(sampling, chatTemplate, bars, p, prompts, eval.samples(), eval.temperature(), seed, task);
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (int i = 0; i < prompts.size(); i++) out.put(prompts.get(i), all.get(i).stream().map(Completion::text).toList());
        return out;
    }

    /** The win-rate of the policy that gave {@code a} against the one that gave {@code b}. */
    public WinRates.Estimate compare(PreferenceOracle oracle, List<String> prompts, Map<String, List<String>> a, Map<String, List<String>> b) {
        return WinRates.compare(oracle, prompts, a, b, eval.allPairs());
    }

    /** The oracle's diagnostics of the policy that gave these samples; empty (with a warning) when it cannot grade them. */
    public static Map<String, Double> diagnostics(PreferenceOracle oracle, Map<String, List<String>> samples) {
        try {
            return oracle.diagnostics(samples);
        } catch (IllegalArgumentException e) {
            LoggerFactory.getLogger("dno").warn("{} diagnostics not computed: {}", oracle.name(), e.getMessage());
            return Map.of();
        }
    }
}
