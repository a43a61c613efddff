package org.dnonative.dno;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.config.EmbeddedConfig;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.oracle.builtin.ArithmeticTasks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The embedded default run, as {@code train} runs it (seed 1): the direction of every curve. Win-rate
 * against the start rises at every iteration and ends above 1/2 beyond its 95% interval, each iterate
 * beats the one before, exploitability falls at every iteration, correctness stays within a point of
 * the start's, the DNO loss is below ln 2 with a positive reward margin, and the teacher's gold
 * responses take part in the pairs. The sizes of these effects are small in this run (docs/TRAIN.md);
 * the test pins their direction. And a run repeated on the same machine with the same thread count
 * prints the same table.
 *
 * <p>Deterministic for its seed on one machine (one libtorch thread); a failure prints the seed and
 * the table.
 */
class EmbeddedRunTest {
    static final long SEED = 1;

    static PrintWriter quiet() {
        return new PrintWriter(new StringWriter());
    }

    @Test
    void everyCurveGoesTheWayDnoSays(@TempDir Path dir) throws Exception {
        DnoConfig c = DnoConfig.embeddedDefaults().with("seed", SEED);
        DnoRun.Result r = DnoRun.start(c, dir.resolve("run"), null, Progress.Mode.OFF, quiet()).run();
        List<ObjectNode> m = r.metrics();
        String table = "seed " + SEED + "\n" + Files.readString(dir.resolve("run/summary.txt"));
        int last = m.size() - 1;
        assertEquals(c.iterations(), last, table);
        ObjectNode start = m.get(0), end = m.get(last);
        int goldPairs = 0;
        for (int t = 1; t <= last; t++) {
            ObjectNode prev = m.get(t - 1), now = m.get(t);
            assertTrue(now.get("winrate_vs_start").asDouble() > prev.get("winrate_vs_start").asDouble(),
                    "win-rate vs start rises at iteration " + t + "\n" + table);
            assertTrue(now.get("exploitability").asDouble() < prev.get("exploitability").asDouble(),
                    "exploitability falls at iteration " + t + "\n" + table);
            assertTrue(now.get("correct").asDouble() >= start.get("correct").asDouble() - 0.01,
                    "correctness at iteration " + t + " within a point of the start's\n" + table);
            assertTrue(now.get("winrate_vs_prev").asDouble() > 0.5, "pi_" + (t + 1) + " beats pi_" + t + "\n" + table);
            assertTrue(now.get("loss").asDouble() < Math.log(2), "the DNO loss is below ln 2 at iteration " + t + "\n" + table);
            assertTrue(now.get("reward_margin").asDouble() > 0, "positive reward margin at iteration " + t + "\n" + table);
            goldPairs += now.path("pairs_gold_sample").asInt() + now.path("pairs_sample_gold").asInt();
        }
        double wr = end.get("winrate_vs_start").asDouble(), ci = end.get("winrate_vs_start_ci95").asDouble();
        assertTrue(wr - ci > 0.5, "the last iterate beats the start beyond its interval: " + wr + "±" + ci + "\n" + table);
        assertTrue(goldPairs > 0, "the teacher's gold responses take part in the pairs\n" + table);
        assertTrue(Files.size(dir.resolve("run/plot.png")) > 10_000, "a plot with content");
    }

    @Test
    void aRepeatedRunPrintsTheSameTable(@TempDir Path dir) throws Exception {
        Map<String, Object> o = new LinkedHashMap<>(DnoRunTest.tinyOverrides());
        o.put("seed", SEED);
        DnoConfig c = DnoConfig.embeddedDefaults().with(o);
        DnoRun.start(c, dir.resolve("a"), null, Progress.Mode.OFF, quiet()).run();
        DnoRun.start(c, dir.resolve("b"), null, Progress.Mode.OFF, quiet()).run();
        assertEquals(Files.readString(dir.resolve("a/summary.txt")), Files.readString(dir.resolve("b/summary.txt")), "seed " + SEED);
        assertEquals(Files.readString(dir.resolve("a/metrics.jsonl")).replaceAll("\"seconds\":\\{[^}]*}", ""),
                Files.readString(dir.resolve("b/metrics.jsonl")).replaceAll("\"seconds\":\\{[^}]*}", ""), "seed " + SEED);
    }

    /** refusal_rate adds answer-less demonstrations; at 0 (the default) the demonstrations are as before. */
    @Test
    void refusalsInTheDemonstrations() {
        EmbeddedConfig none = DnoConfig.embeddedDefaults().embedded();
        EmbeddedConfig some = DnoConfig.embeddedDefaults().with("embedded.refusal_rate", 0.4).embedded();
        List<EmbeddedModel.Demo> a = EmbeddedModel.demonstrations(none, 2000, 11), b = EmbeddedModel.demonstrations(some, 2000, 11);
        assertEquals(0, a.stream().filter(d -> d.response().equals(ArithmeticTasks.REFUSAL)).count());
        long refusals = b.stream().filter(d -> d.response().equals(ArithmeticTasks.REFUSAL)).count();
        assertTrue(refusals > 700 && refusals < 900, "about 40% of 2000 (seed 11): " + refusals);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).prompt(), b.get(i).prompt(), "the same tasks, seed 11");
        }
    }

    /** Without a terminal a task logs one plain line when it ends: no ANSI escapes, no carriage returns. */
    @Test
    void progressWithoutATerminalIsOnePlainLine() {
        Progress p = Progress.start(Progress.Mode.LOG, "sampling pi_2", 38);
        p.step(30);
        p.step(8);
        p.extra("1.0 tok/s");
        String line = p.line();
        p.close();
        assertTrue(line.matches("sampling pi_2: 38/38 in \\d+\\.\\d s \\(1\\.0 tok/s\\)"), line);
        assertFalse(line.contains("\u001b") || line.contains("\r"), line);
    }
}
