package org.dnonative.dno.stage;

import org.dnonative.dno.Seeds;
import org.dnonative.dno.WinRates;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.EvalSamples;
import org.dnonative.dno.store.PromptEntry;
import org.dnonative.model.Completion;
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
    public boolean sharded() { return true; }

    @Override
    public void run(RunContext run, int t) {
        DnoConfig c = run.config();
        List<PromptEntry> entries = run.store().evalPrompts();
        List<String> prompts = entries.stream().map(PromptEntry::prompt).toList();
        Map<String, List<String>> samples = sample(run, c, t, prompts);
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
            Map<String, List<String>> prev = samplesOf(run, t - 1), start = samplesOf(run, 0);
            // each rank judges its shard of the prompts (the chunks it sampled); the estimates use them all
            List<List<WinRates.PromptScore>> scores = run.cluster().gather("judging the evaluation of iteration " + t, prompts.size(),
                    RunStoreTypes.LIST_OF_SCORES, () -> {
                        List<Integer> mine = run.cluster().shard().items(prompts.size(), Generation.chunk(c.sampling(), c.evaluation().samples()));
                        List<String> part = mine.stream().map(prompts::get).toList();
                        List<WinRates.PromptScore> p, s;
                        try {
                            p = WinRates.perPrompt(oracle, part, samples, prev, c.evaluation().allPairs());
                            s = WinRates.perPrompt(oracle, part, samples, start, c.evaluation().allPairs());
                        } catch (JudgeUnavailableException e) {
                            throw new EndpointStoppedException("iteration " + t + ": the judge is unavailable during the evaluation: " + e.getMessage()
                                    + "; the comparisons made are cached: `train --resume " + run.store().root() + "` asks only the missing ones", e);
                        }
                        Map<Integer, List<WinRates.PromptScore>> byPrompt = new LinkedHashMap<>();
                        for (int i = 0; i < mine.size(); i++) byPrompt.put(mine.get(i), List.of(p.get(i), s.get(i)));
                        return byPrompt;
                    });
            WinRates.Estimate vsPrev = WinRates.estimate(scores.stream().map(x -> x.get(0)).toList());
            WinRates.Estimate vsStart = WinRates.estimate(scores.stream().map(x -> x.get(1)).toList());
            OracleStats judged = ClusterStats.sum(run.cluster(), oracle.stats().minus(before), "the evaluation's oracle counters");
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
        // rank 0 alone: diagnostics may ask the oracle, and only rank 0 writes
        if (run.store().writes()) {
            m.putAll(Evaluation.diagnostics(oracle, samples));
            run.store().writeSummary(t, "eval", m);
        }
    }

    /** The evaluation samples of iteration t's iterate, each rank sampling the chunks its shard owns. */
    private static Map<String, List<String>> sample(RunContext run, DnoConfig c, int t, List<String> prompts) {
        List<List<String>> all = run.cluster().gather("evaluation samples of pi_" + (t + 1), prompts.size(), RunStoreTypes.LIST_OF_STRINGS, () -> {
            Map<Integer, List<String>> m = new LinkedHashMap<>();
            try (Policy p = Policy.load(t == 0 ? run.policyDir(1) : run.store().checkpoint(t), run.device())) {
                List<List<Completion>> done = Generation.generate(c.sampling(), c.prompts().chatTemplate(), run.bars(), p, prompts,
                        c.evaluation().samples(), c.evaluation().temperature(), Seeds.derive(c.seed(), 0, Seeds.Stage.EVAL),
                        "evaluating pi_" + (t + 1), run.cluster().shard());
                for (int i = 0; i < prompts.size(); i++)
                    if (done.get(i) != null) m.put(i, done.get(i).stream().map(Completion::text).toList());
            }
            return m;
        });
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (int i = 0; i < prompts.size(); i++) out.put(prompts.get(i), all.get(i));
        return out;
    }

    private static Map<String, List<String>> samplesOf(RunContext run, int t) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (EvalSamples s : run.store().evalSamples(t)) out.put(s.prompt(), s.samples());
        return out;
    }
}
