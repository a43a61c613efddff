package org.dnonative.dno.stage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dno.store.RunStore;

import java.util.List;
import java.util.Locale;
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
        run.say("%s", line(m));
    }

    /**
     * The line a user reads while the run goes on, one per iteration: what training did (pairs, steps,
     * loss, reward margin) and what it achieved (win-rates with their intervals, and the oracle's
     * diagnostics when it has them), so the direction of every curve shows before the summary.
     */
    static String line(ObjectNode m) {
        int t = m.path("iteration").asInt();
        StringBuilder sb = new StringBuilder();
        if (t == 0) {
            sb.append("iteration 0 (the starting policy)");
        } else {
            sb.append(String.format(Locale.ROOT, "iteration %d: %d pairs, %d steps, loss %.4f, reward margin %.3f | win-rate vs start %s, vs previous %s",
                    t, m.path("pairs").asInt(), m.path("steps").asInt(), m.path("loss").asDouble(Double.NaN),
                    m.path("reward_margin").asDouble(Double.NaN), rate(m, "winrate_vs_start"), rate(m, "winrate_vs_prev")));
        }
        if (m.has("exploitability")) sb.append(String.format(Locale.ROOT, " | exploitability %.3f", m.path("exploitability").asDouble()));
        if (m.has("correct")) {
            sb.append(String.format(Locale.ROOT, " | correct %.3f | styles bare/sentence/equation %.2f/%.2f/%.2f",
                    m.path("correct").asDouble(), m.path("style_bare").asDouble(), m.path("style_sentence").asDouble(),
                    m.path("style_equation").asDouble()));
        }
        return sb.toString();
    }

    private static String rate(ObjectNode m, String key) {
        if (!m.path(key).isNumber()) return "-";
        return m.path(key + "_ci95").isNumber()
                ? String.format(Locale.ROOT, "%.3f±%.3f", m.get(key).asDouble(), m.get(key + "_ci95").asDouble())
                : String.format(Locale.ROOT, "%.3f", m.get(key).asDouble());
    }
}
