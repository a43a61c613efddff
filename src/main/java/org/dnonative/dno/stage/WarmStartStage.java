package org.dnonative.dno.stage;

import org.dnonative.dno.Progress;
import org.dnonative.dno.RunDirectory;
import org.dnonative.dno.Seeds;
import org.dnonative.dno.config.EmbeddedConfig;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.model.Policy;

/** Iteration 0 of the embedded run: the small random policy, supervised on imperfect demonstrations, saved as pi_1. */
public final class WarmStartStage implements Stage {
    /** What the warm start reports (sft.json). */
    public record Summary(double sftLoss, int sftSteps) {}

    @Override
    public String name() { return "sft"; }

    @Override
    public boolean applies(RunContext run) {
        return run.config().usesEmbeddedModel();
    }

    @Override
    public void run(RunContext run, int t) {
        EmbeddedConfig e = run.config().embedded();
        run.say("warm start: supervised fine-tuning of the embedded %d-layer policy on imperfect demonstrations (%d steps)",
                e.layers(), e.sftSteps());
        double loss;
        try (Policy p = EmbeddedModel.randomPolicy(e, run.device());
             Progress bar = run.bars().start("warm start", e.sftSteps())) {
            loss = EmbeddedModel.warmStart(p, e, Seeds.derive(run.config().seed(), 0, Seeds.Stage.SFT), s -> bar.step(1));
            RunDirectory.writeDirectory(run.store().checkpoint(0), d -> p.save(d, Checkpoints.dtype(run.config())));
        }
        run.store().writeSummary(0, "sft", new Summary(loss, e.sftSteps()));
    }
}
