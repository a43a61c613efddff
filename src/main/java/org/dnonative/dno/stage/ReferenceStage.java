package org.dnonative.dno.stage;

import org.dnonative.dno.Progress;
import org.dnonative.dno.store.Pair;
import org.dnonative.dno.store.ReferenceLogps;
import org.dnonative.model.Policy;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceScore;

import java.util.ArrayList;
import java.util.List;

/** log pi_t(y|x) of every training pair's responses, pi_t frozen, before any training: the loss's reference. */
public final class ReferenceStage implements Stage {
    /** Pairs scored per call (the scorer batches them further by its token budget). */
    private static final int CHUNK = 256;

    @Override
    public String name() { return "reference"; }

    @Override
    public void run(RunContext run, int t) {
        List<Pair> pairs = run.store().trainPairs(t);
        List<ReferenceLogps> out = new ArrayList<>();
        try (Policy p = run.loadPolicy(t)) {
            double[][] ref = logprobs(run, p, pairs);
            for (int i = 0; i < pairs.size(); i++) out.add(new ReferenceLogps(pairs.get(i).id(), ref[0][i], ref[1][i]));
        }
        run.store().writeReferenceLogps(t, out);
    }

    /** [0] chosen, [1] rejected sequence log-probs under {@code policy}, without grad. */
    static double[][] logprobs(RunContext run, Policy policy, List<Pair> pairs) {
        double[][] out = new double[2][pairs.size()];
        boolean template = run.config().prompts().chatTemplate();
        Scorer scorer = new Scorer(policy.model(), policy.padId(), run.config().training().scoreTokenBudget());
        try (Progress bar = run.bars().start("reference log-probs", pairs.size())) {
            for (int from = 0; from < pairs.size(); from += CHUNK) {
                List<Pair> part = pairs.subList(from, Math.min(pairs.size(), from + CHUNK));
                List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
                for (Pair q : part) { prompts.add(Encoding.prompt(policy, q.prompt(), template)); responses.add(q.chosenIds()); }
                for (Pair q : part) { prompts.add(Encoding.prompt(policy, q.prompt(), template)); responses.add(q.rejectedIds()); }
                List<SequenceScore> s = scorer.score(prompts, responses);
                for (int i = 0; i < part.size(); i++) {
                    out[0][from + i] = s.get(i).logprob();
                    out[1][from + i] = s.get(part.size() + i).logprob();
                }
                bar.step(part.size());
            }
        }
        return out;
    }
}
