package org.dnonative.dno.stage;

import org.dnonative.dno.Progress;
import org.dnonative.dno.store.Pair;
import org.dnonative.dno.store.ReferenceLogps;
import org.dnonative.model.Policy;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceScore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * log pi_ref(y|x) of every training pair's responses, frozen, before any training: the loss's reference,
 * pi_t (the paper's) or, with {@code training.reference: start}, the starting policy pi_1.
 */
public final class ReferenceStage implements Stage {
    /** Pairs scored per call (the scorer batches them further by its token budget). */
    private static final int CHUNK = 256;

    @Override
    public String name() { return "reference"; }

    @Override
    public boolean sharded() { return true; }

    @Override
    public void run(RunContext run, int t) {
        List<Pair> pairs = run.store().trainPairs(t);
        // chunks of CHUNK pairs alone; with several ranks, small enough that every rank has one
        int world = run.cluster().size();
        int chunk = Math.max(1, Math.min(CHUNK, (pairs.size() + world - 1) / world));
        List<ReferenceLogps> out = run.cluster().gather("reference log-probs of iteration " + t, pairs.size(), ReferenceLogps.class, () -> {
            List<Integer> mine = run.cluster().shard().items(pairs.size(), chunk);
            Map<Integer, ReferenceLogps> m = new LinkedHashMap<>();
            try (Policy p = run.loadPolicy(run.config().training().referenceIteration(t))) {
                List<Pair> part = mine.stream().map(pairs::get).toList();
                double[][] ref = logprobs(run, p, part, chunk);
                for (int i = 0; i < part.size(); i++) m.put(mine.get(i), new ReferenceLogps(part.get(i).id(), ref[0][i], ref[1][i]));
            }
            return m;
        });
        run.store().writeReferenceLogps(t, out);
    }

    /** [0] chosen, [1] rejected sequence log-probs under {@code policy}, without grad. */
    static double[][] logprobs(RunContext run, Policy policy, List<Pair> pairs) {
        return logprobs(run, policy, pairs, CHUNK);
    }

    /** @param chunk pairs per scorer call (a rank's shard is whole chunks, so its calls are those one process makes) */
    static double[][] logprobs(RunContext run, Policy policy, List<Pair> pairs, int chunk) {
        double[][] out = new double[2][pairs.size()];
        boolean template = run.config().prompts().chatTemplate();
        Scorer scorer = new Scorer(policy.model(), policy.padId(), run.config().training().scoreTokenBudget());
        try (Progress bar = run.bars().start("reference log-probs", pairs.size())) {
            for (int from = 0; from < pairs.size(); from += chunk) {
                List<Pair> part = pairs.subList(from, Math.min(pairs.size(), from + chunk));
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
