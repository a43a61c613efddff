package org.dnonative.dno.stage;

import org.dnonative.dno.Seeds;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.Candidate;
import org.dnonative.dno.store.PromptEntry;
import org.dnonative.dno.store.PromptSamples;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;

import java.util.ArrayList;
import java.util.List;

/** K samples of pi_t per prompt of the iteration, plus the teacher's gold response: the candidates. */
public final class SamplingStage implements Stage {
    @Override
    public String name() { return "samples"; }

    @Override
    public void run(RunContext run, int t) {
        DnoConfig c = run.config();
        List<PromptEntry> prompts = run.store().prompts(t);
        List<PromptSamples> out = new ArrayList<>();
        try (Policy p = run.loadPolicy(t)) {
            List<List<Completion>> all = Generation.generate(c.sampling(), c.prompts().chatTemplate(), run.bars(), p,
                    prompts.stream().map(PromptEntry::prompt).toList(), c.sampling().samples(), c.sampling().temperature(),
                    Seeds.derive(c.seed(), t, Seeds.Stage.SAMPLE), "sampling pi_" + t);
            for (int i = 0; i < prompts.size(); i++) {
                PromptEntry e = prompts.get(i);
                List<Candidate> cands = new ArrayList<>();
                List<Completion> samples = all.get(i);
                for (int k = 0; k < samples.size(); k++) {
                    Completion s = samples.get(k);
                    cands.add(new Candidate(Candidate.sampleId(k), Candidate.Origin.SAMPLE, s.text(), s.finishReason(), s.ids()));
                }
                if (e.gold() != null)
                    cands.add(new Candidate(Candidate.GOLD_ID, Candidate.Origin.GOLD, e.gold(), null, Encoding.response(p, e.gold())));
                out.add(new PromptSamples(e.id(), e.prompt(), cands));
            }
        }
        run.store().writeSamples(t, out);
    }
}
