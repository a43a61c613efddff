package org.dnonative.dno.stage;

import org.dnonative.dno.Seeds;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.Candidate;
import org.dnonative.dno.store.PromptEntry;
import org.dnonative.dno.store.PromptSamples;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** K samples of pi_t per prompt of the iteration, plus the teacher's gold response: the candidates. */
public final class SamplingStage implements Stage {
    @Override
    public String name() { return "samples"; }

    @Override
    public boolean sharded() { return true; }

    @Override
    public void run(RunContext run, int t) {
        DnoConfig c = run.config();
        List<PromptEntry> prompts = run.store().prompts(t);
        // each rank samples the chunks of prompts its shard owns; every rank gets them all, rank 0 writes them
        List<PromptSamples> out = run.cluster().gather("sampling pi_" + t, prompts.size(), PromptSamples.class, () -> mine(run, c, t, prompts));
        run.store().writeSamples(t, out);
    }

    private static Map<Integer, PromptSamples> mine(RunContext run, DnoConfig c, int t, List<PromptEntry> prompts) {
        Map<Integer, PromptSamples> out = new LinkedHashMap<>();
        try (Policy p = run.loadPolicy(t)) {
            List<List<Completion>> all = Generation.generate(c.sampling(), c.prompts().chatTemplate(), run.bars(), p,
                    prompts.stream().map(PromptEntry::prompt).toList(), c.sampling().samples(), c.sampling().temperature(),
                    Seeds.derive(c.seed(), t, Seeds.Stage.SAMPLE), "sampling pi_" + t, run.cluster().shard());
            for (int i = 0; i < prompts.size(); i++) {
                if (all.get(i) == null) continue;
                PromptEntry e = prompts.get(i);
                List<Candidate> cands = new ArrayList<>();
                List<Completion> samples = all.get(i);
                for (int k = 0; k < samples.size(); k++) {
                    Completion s = samples.get(k);
                    cands.add(new Candidate(Candidate.sampleId(k), Candidate.Origin.SAMPLE, s.text(), s.finishReason(), s.ids()));
                }
                if (e.gold() != null)
                    cands.add(new Candidate(Candidate.GOLD_ID, Candidate.Origin.GOLD, e.gold(), null, Encoding.response(p, e.gold())));
                out.put(i, new PromptSamples(e.id(), e.prompt(), cands));
            }
        }
        return out;
    }
}
