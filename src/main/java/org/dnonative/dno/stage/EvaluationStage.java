package org.dnonative.dno.stage;

import org.dnonative.dno.Seeds;
import org.dnonative.dno.WinRates;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.EvalSamples;
import org.dnonative.dno.store.PromptEntry;
import org.dnonative.model.Policy;
import org.dnonative.oracle.OracleStats;
import org.dnonative.oracle.PreferenceOracle;
import org.dnonative.oracle.judge.JudgeUnavailableException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Iteration t's iterate pi_{t+1} (t = 0: the starting policy pi_1) sampled on the held-out prompts,
 * judged against pi_t and pi_1, with the oracle's diagnostics. A win-rate with no usable judgment
 * is NaN here and null in eval.json; a judge down for longer than its patience, or more unusable
 * judgments than {@code oracle.judge.max_unusable_share}, stop the run instead (exit 1, no marker).
 */
public final class EvaluationStage implements Stage {
    @Override
    public String name() { return "eval"; }

    @Override
    public void run(RunContext run, int t) {
        DnoConfig c = run.config();
        Evaluation evaluation = new Evaluation(c.evaluation(), c.sampling(), c.prompts().chatTemplate(), run.bars());
        List<PromptEntry> entries = run.store().evalPrompts();
        List<String> prompts = entries.stream().map(PromptEntry::prompt).toList();
        Map<String, List<String>> samples;
        try (Policy p = Policy.load(t == 0 ? run.policyDir(1) : run.store().checkpoint(t), run.device())) {
            samples = evaluation.sample(p, prompts, Seeds.derive(c.seed(), 0, Seeds.Stage.EVAL), "evaluating pi_" + (t + 1));
        }
        List<EvalSamples> lines = new ArrayList<>();
        for (PromptEntry e : entries) lines.add(new EvalSamples(e.id(), e.prompt(), samples.get(e.prompt())));
        run.store().writeEvalSamples(t, lines);

        PreferenceOracle oracle = run.oracle();
        Map<String, Object> m = new LinkedHashMap<>();
        if (t == 0) {
            m.put("winrate_vs_prev", 0.5);
            m.put("winrate_vs_start", 0.5);
        } else {
            OracleStats before = oracle.stats();
            WinRates.Estimate vsPrev, vsStart;
            try {
                vsPrev = evaluation.compare(oracle, prompts, samples, samplesOf(run, t - 1));
                vsStart = evaluation.compare(oracle, prompts, samples, samplesOf(run, 0));
            } catch (JudgeUnavailableException e) {
                throw new EndpointStoppedException("iteration " + t + ": the judge is unavailable during the evaluation: " + e.getMessage()
                        + "; the comparisons made are cached: `train --resume " + run.store().root() + "` asks only the missing ones", e);
            }
            OracleStats judged = oracle.stats().minus(before);
            if (judged.unusable() > 0) {
                run.tell("iteration %d: %d of %d evaluation comparisons unusable", t, judged.unusable(), judged.judgments());
                var endpoint = run.config().oracle().judge();
                if (endpoint.tooManyUnusable(judged.unusable(), judged.judgments()))
                    throw new EndpointStoppedException("iteration " + t + ": " + oracle.name() + " gave " + judged.unusable() + " unusable judgments of "
                            + judged.judgments() + " in the evaluation, more than oracle.judge.max_unusable_share (" + endpoint.maxUnusableShare() + ")", null);
            }
            m.put("winrate_vs_prev", vsPrev.winRate());
            m.put("winrate_vs_prev_ci95", vsPrev.ci95());
            m.put("winrate_vs_start", vsStart.winRate());
            m.put("winrate_vs_start_ci95", vsStart.ci95());
            m.put("eval_prompts", vsStart.prompts());
        }
        m.putAll(Evaluation.diagnostics(oracle, samples));
        run.store().writeSummary(t, "eval", m);
    }

    private static Map<String, List<String>> samplesOf(RunContext run, int t) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (EvalSamples s : run.store().evalSamples(t)) out.put(s.prompt(), s.samples());
        return out;
    }
}
