package org.dnonative.dno.stage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dno.store.RunStore;

import java.util.List;
import java.util.OptionalDouble;

/**
 * The iteration's metrics.json: the numbers of its stages' summaries (pairs, judgments, training,
 * evaluation; the warm start at iteration 0) and the seconds each stage took, then metrics.jsonl
 * rewritten from every iteration so far.
 */
public final class MetricsStage implements Stage {
    private final List<String> timedStages;

    /** @param timedStages the stages whose time the metrics report (markers of this iteration) */
    public MetricsStage(List<String> timedStages) {
        this.timedStages = List.copyOf(timedStages);
    }

    @Override
    public String name() { return "metrics"; }

    @Override
    public void run(RunContext run, int t) {
        RunStore store = run.store();
        ObjectNode m = RunStore.JSON.createObjectNode();
        m.put("iteration", t);
        if (t == 0) {
            m.put("pairs", 0);
            m.putNull("loss");
            m.putNull("reward_margin");
        }
        for (String s : List.of("sft", "pairs", "train", "judgments", "eval")) RunStore.merge(m, store.summary(t, s));
        ObjectNode seconds = m.putObject("seconds");
        for (String s : timedStages) {
            OptionalDouble sec = store.seconds(t, s);
            if (sec.isPresent()) seconds.put(s, sec.getAsDouble());
        }
        store.writeMetrics(t, m);
        store.collectMetrics(t);
        if (t > 0) {
            run.say("iteration %d: %d pairs, loss %.4f, reward margin %.4f, win-rate vs previous %.3f, vs start %.3f%s", t,
                    m.path("pairs").asInt(), m.path("loss").asDouble(Double.NaN), m.path("reward_margin").asDouble(Double.NaN),
                    m.path("winrate_vs_prev").asDouble(Double.NaN), m.path("winrate_vs_start").asDouble(Double.NaN),
                    m.has("exploitability") ? String.format(", exploitability %.3f", m.path("exploitability").asDouble()) : "");
        }
    }
}
