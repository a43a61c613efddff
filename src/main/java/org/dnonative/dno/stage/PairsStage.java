package org.dnonative.dno.stage;

import org.dnonative.dno.PairRules;
import org.dnonative.dno.Replay;
import org.dnonative.dno.Seeds;
import org.dnonative.dno.config.PairsConfig;
import org.dnonative.dno.store.Candidate;
import org.dnonative.dno.store.Judgment;
import org.dnonative.dno.store.Pair;
import org.dnonative.dno.store.PromptSamples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The pair rule on this iteration's judgments (large-margin pairs among the samples and the gold
 * response), then replay of earlier iterations' pairs. Samples and judgments are joined by prompt id,
 * scores and preferences to candidates by candidate id.
 */
public final class PairsStage implements Stage {
    @Override
    public String name() { return "pairs"; }

    @Override
    public void run(RunContext run, int t) {
        PairsConfig c = run.config().pairs();
        Map<String, Judgment> judgments = run.store().judgments(t).stream()
                .collect(Collectors.toMap(Judgment::promptId, Function.identity(), (a, b) -> {
                    throw new IllegalStateException("two judgments for prompt " + a.promptId());
                }, LinkedHashMap::new));
        List<Pair> fresh = new ArrayList<>();
        PairRules.ListwiseRule rule = PairRules.ListwiseRule.of(c);
        for (PromptSamples s : run.store().samples(t)) {
            Judgment j = judgments.get(s.promptId());
            if (j == null) throw new IllegalStateException("iteration " + t + ": no judgment for prompt " + s.promptId());
            if (!j.ok()) continue;
            List<PairRules.Candidate> cands = s.candidates().stream().map(x -> new PairRules.Candidate(x.text(), x.gold())).toList();
            List<PairRules.Choice> choices;
            if (j.listwise()) {
                List<Double> scores = s.candidates().stream().map(x -> score(j, x, s)).toList();
                choices = PairRules.listwise(cands, scores, rule);
            } else {
                PairRules.Choice ch = PairRules.pairwise(cands, preferenceInCandidateOrder(j, s), c.pairwiseMargin(), c.softTargets());
                choices = ch == null ? List.of() : List.of(ch);
            }
            for (PairRules.Choice ch : choices) {
                Candidate w = s.candidates().get(ch.winner()), l = s.candidates().get(ch.loser());
                String kind = j.listwise() ? origin(w) + ">" + origin(l) : "pairwise";
                fresh.add(new Pair(Pair.id(t, s.promptId(), w.id(), l.id()), s.prompt(), w.text(), w.ids(), l.text(), l.ids(),
                        ch.target(), kind, t));
            }
        }
        List<List<Pair>> earlier = new ArrayList<>();
        for (int e = t - 1; e >= 1; e--) earlier.add(run.store().pairs(e));
        List<Pair> replay = Replay.select(earlier, fresh.size(), c.replayFraction(), c.replayDecay(),
                Seeds.derive(run.config().seed(), t, Seeds.Stage.REPLAY));
        List<Pair> train = new ArrayList<>(fresh);
        train.addAll(replay);
        run.store().writePairs(t, fresh, train);

        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pairs", train.size());
        m.put("pairs_new", fresh.size());
        m.put("pairs_replayed", replay.size());
        m.put("prompts_with_pairs", fresh.stream().map(Pair::prompt).distinct().count());
        for (String kind : List.of("sample>sample", "sample>gold", "gold>sample", "pairwise")) {
            long n = fresh.stream().filter(p -> p.kind().equals(kind)).count();
            if (n > 0) m.put("pairs_" + kind.replace('>', '_'), n);
        }
        run.store().writeSummary(t, "pairs", m);
        if (fresh.isEmpty()) run.say("iteration %d: the pair rule found no pairs", t);
    }

    private static String origin(Candidate c) {
        return c.gold() ? "gold" : "sample";
    }

    private static double score(Judgment j, Candidate c, PromptSamples s) {
        Double v = j.scores().get(c.id());
        if (v == null) throw new IllegalStateException("judgment of prompt " + s.promptId() + " has no score for candidate " + c.id());
        return v;
    }

    /** The judgment's preference matrix reordered to the candidates' order. */
    private static double[][] preferenceInCandidateOrder(Judgment j, PromptSamples s) {
        int n = s.candidates().size();
        int[] at = new int[n];
        for (int i = 0; i < n; i++) {
            at[i] = j.candidateIds().indexOf(s.candidates().get(i).id());
            if (at[i] < 0) throw new IllegalStateException("judgment of prompt " + s.promptId() + " has no candidate " + s.candidates().get(i).id());
        }
        double[][] p = new double[n][n];
        for (int x = 0; x < n; x++) for (int y = 0; y < n; y++) p[x][y] = j.preference()[at[x]][at[y]];
        return p;
    }
}
