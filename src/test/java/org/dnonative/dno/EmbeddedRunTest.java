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
 * The embedded default run, as {@code train} runs it (seed 1), and the same run at reduced size: the
 * direction of every curve. Win-rate against the start rises at every iteration (up to 0.005), each
 * iterate beats the one before, exploitability falls at every iteration (up to 0.01, pooled over
 * prompts and per prompt), correctness rises at every iteration (up to 0.005), the DNO loss is below ln 2
 * with a positive reward margin; the default run ends with a win-rate against the start of at least
 * 0.65, an exploitability at most half the start's (per prompt, the definition, and pooled over
 * prompts) and correctness 0.3 above the start's: issue 12's criteria. And a run repeated on the same machine with
 * the same thread count prints the same table.
 *
 * <p>Deterministic for its seed on one machine (one libtorch thread); a failure prints the seed and
 * the table.
 */
class EmbeddedRunTest {
    static final long SEED = 1;
    /** How far a rising curve may fall at one iteration: inside the evaluation's 95% intervals (+-0.006 to +-0.016 with the default's 128 samples, wider with 16). */
    static final double RISE_NOISE = 0.005;

    static PrintWriter quiet() {
        return new PrintWriter(new StringWriter());
    }

    /** Runs {@code c} and checks the direction of every curve; returns the metrics. */
    static List<ObjectNode> runAndCheckCurves(DnoConfig c, Path dir) throws Exception {
        DnoRun.Result r = DnoRun.start(c, dir.resolve("run"), null, Progress.Mode.OFF, quiet()).run();
        List<ObjectNode> m = r.metrics();
        String table = "seed " + c.seed() + "\n" + Files.readString(dir.resolve("run/summary.txt"));
        int last = m.size() - 1;
        assertEquals(c.iterations(), last, table);
        for (int t = 1; t <= last; t++) {
            ObjectNode prev = m.get(t - 1), now = m.get(t);
            // Win-rate against the start and correctness rise, up to RISE_NOISE: on another CPU the same seed
            // is another sample of the run, and the reduced run's 16 evaluation samples are noisy (the
            // default's smallest gain on the evaluation prompts of seeds 0-5 is 0.006 on the Intel Xeon; the
            // previous default's seed 1 fell by 0.002 at its iteration 6 on the AMD EPYC; docs/TRAIN.md).
            for (String rising : List.of("winrate_vs_start", "correct"))
                assertTrue(now.get(rising).asDouble() > prev.get(rising).asDouble() - RISE_NOISE,
                        rising + " rises (up to " + RISE_NOISE + ") at iteration " + t + "\n" + table);
            // Once correctness is near 0.9 the exploitability is mostly the style mix, which moves by
            // a few thousandths either way from iteration to iteration (128 or 16 samples of each of
            // 40 prompts): it falls, up to 0.01, pooled over prompts and per prompt.
            assertTrue(now.get("pooled_exploitability").asDouble() < prev.get("pooled_exploitability").asDouble() + 0.01,
                    "pooled exploitability falls (up to 0.01) at iteration " + t + "\n" + table);
            assertTrue(now.get("exploitability").asDouble() < prev.get("exploitability").asDouble() + 0.01,
                    "exploitability falls (up to 0.01) at iteration " + t + "\n" + table);
            assertTrue(now.get("winrate_vs_prev").asDouble() > 0.5, "pi_" + (t + 1) + " beats pi_" + t + "\n" + table);
            assertTrue(now.get("loss").asDouble() < Math.log(2), "the DNO loss is below ln 2 at iteration " + t + "\n" + table);
            assertTrue(now.get("reward_margin").asDouble() > 0, "positive reward margin at iteration " + t + "\n" + table);
        }
        double wr = m.get(last).get("winrate_vs_start").asDouble(), ci = m.get(last).get("winrate_vs_start_ci95").asDouble();
        assertTrue(wr - ci > 0.5, "the last iterate beats the start beyond its interval: " + wr + "±" + ci + "\n" + table);
        assertTrue(Files.size(dir.resolve("run/plot.png")) > 10_000, "a plot with content");
        return m;
    }

    @Test
    void theDefaultRunImprovesALot(@TempDir Path dir) throws Exception {
        DnoConfig c = DnoConfig.embeddedDefaults().with("seed", SEED);
        List<ObjectNode> m = runAndCheckCurves(c, dir);
        String table = Files.readString(dir.resolve("run/summary.txt"));
        ObjectNode start = m.get(0), end = m.get(m.size() - 1);
        assertTrue(end.get("winrate_vs_start").asDouble() >= 0.65, "final win-rate against the start at least 0.65\n" + table);
        assertTrue(end.get("pooled_exploitability").asDouble() <= start.get("pooled_exploitability").asDouble() / 2,
                "pooled exploitability at most half the start's\n" + table);
        // Per prompt x0.37 on this seed on the Intel Xeon build machine (x0.32-0.44 on seeds 0-5; docs/TRAIN.md).
        assertTrue(end.get("exploitability").asDouble() <= start.get("exploitability").asDouble() / 2,
                "exploitability per prompt at most half the start's\n" + table);
        assertTrue(end.get("correct").asDouble() >= start.get("correct").asDouble() + 0.3, "correctness up by 0.3 at least\n" + table);
    }

    /** The default design with 3 iterations (the same first three: prompts.per_iteration and parts are fixed) and 16 evaluation samples. */
    @Test
    void aReducedRunGoesTheSameWay(@TempDir Path dir) throws Exception {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("seed", SEED);
        o.put("iterations", 3);
        o.put("evaluation.samples", 16);
        runAndCheckCurves(DnoConfig.embeddedDefaults().with(o), dir);
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

    /** refusal_rate adds answer-less demonstrations (the default run's bad habit); at 0 there are none, and the tasks are the same. */
    @Test
    void refusalsInTheDemonstrations() {
        EmbeddedConfig none = DnoConfig.embeddedDefaults().with("embedded.refusal_rate", 0.0).embedded();
        EmbeddedConfig some = DnoConfig.embeddedDefaults().embedded();
        List<EmbeddedModel.Demo> a = EmbeddedModel.demonstrations(none, 2000, 11), b = EmbeddedModel.demonstrations(some, 2000, 11);
        assertEquals(0, a.stream().filter(d -> d.response().equals(ArithmeticTasks.REFUSAL)).count());
        long refusals = b.stream().filter(d -> d.response().equals(ArithmeticTasks.REFUSAL)).count();
        double expected = 2000 * some.refusalRate();
        assertTrue(some.refusalRate() > 0 && Math.abs(refusals - expected) < 100, "about " + expected + " of 2000 (seed 11): " + refusals);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).prompt(), b.get(i).prompt(), "the same tasks, seed 11");
        }
    }

    /** --task correctness (oracle.builtin) gives the transitive oracle; the default is the cyclic one. */
    @Test
    void theTransitiveTaskIsAConfigurationAway() throws Exception {
        try (var cyclic = OracleFactory.open(DnoConfig.embeddedDefaults().oracle(), 0, null);
             var plain = OracleFactory.open(DnoConfig.embeddedDefaults().with("oracle.builtin", "correctness").oracle(), 0, null)) {
            assertEquals("arithmetic-cyclic-styles", cyclic.name());
            assertEquals("arithmetic-correctness", plain.name());
            Map<String, List<String>> allBare = Map.of("3+4=", List.of("7", "7"));
            assertEquals(0.25, cyclic.diagnostics(allBare).get("exploitability"), 1e-12);
            assertEquals(0.0, plain.diagnostics(allBare).get("exploitability"), 1e-12);
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
