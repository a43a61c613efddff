package org.dnonative.dno;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.cli.Main;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.RunStore;
import org.dnonative.oracle.judge.ScriptedChatServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.dnonative.oracle.judge.ScriptedChatServer.JSON;
import static org.dnonative.oracle.judge.ScriptedChatServer.answer;
import static org.dnonative.oracle.judge.ScriptedChatServer.isProbe;
import static org.dnonative.oracle.judge.ScriptedChatServer.shownResponses;
import static org.dnonative.oracle.judge.ScriptedChatServer.status;
import static org.dnonative.oracle.judge.ScriptedChatServer.userMessage;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Whole runs (the tiny embedded policy of {@link DnoRunTest}) against an LLM judge and a teacher on
 * a loopback chat-completions server that goes down, refuses the model name, or answers nothing
 * that parses: no judgment is lost to an outage, none is paid twice, and a judge that cannot work
 * stops the run before it costs anything.
 */
class JudgeFaultTest {
    private ScriptedChatServer server;
    /** User messages of the judge and teacher requests the server answered with a 200, in order. */
    private final List<String> answered = new CopyOnWriteArrayList<>();
    /** While true the server answers every request but the endpoint check with a 503. */
    private volatile boolean down;
    /** The server goes down after this many answered requests (the endpoint check not counted). */
    private volatile int downAfter = Integer.MAX_VALUE;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedChatServer();
        server.otherwise(this::respond);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A judge whose list-wise score of a response is a fixed function of its text; a teacher who solves the task. */
    private ScriptedChatServer.Action respond(JsonNode request) {
        if (isProbe(request)) return answer("{\"ok\": true}");
        synchronized (this) {
            if (!down && answered.size() >= downAfter) down = true;
            if (down) return status(503, null, "{\"error\":\"the server is restarting\"}");
            answered.add(userMessage(request));
        }
        Map<String, String> shown = shownResponses(request);
        if (shown.isEmpty()) {
            return answer("teacher says " + org.dnonative.oracle.builtin.ArithmeticTasks.parse(userMessage(request)).answer());
        }
        ObjectNode scores = JSON.createObjectNode();
        shown.forEach((label, text) -> scores.put(label, Math.floorMod(text.hashCode(), 7)));
        return answer(scores.toString());
    }

    private DnoConfig judged() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("iterations", 1);
        o.put("oracle.kind", "judge");
        o.put("oracle.mode", "listwise");
        o.put("oracle.judge.base_url", server.baseUrl());
        o.put("oracle.judge.model", "judge");
        o.put("oracle.judge.api_key_env", null);
        o.put("oracle.judge.concurrency", 2);
        o.put("oracle.judge.patience_seconds", 1.0);
        return DnoRunTest.tiny().with(o);
    }

    private record Cli(int code, String out, String err) {}

    private static Cli cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    private static Cli train(DnoConfig c, Path tmp, Path dir) throws Exception {
        Path cfg = Files.createTempFile(tmp, "config", ".json");
        Files.writeString(cfg, ConfigLoader.toJson(c));
        return cli("train", "--config", cfg.toString(), "--out", dir.toString(), "--progress", "OFF");
    }

    /** The metrics without the times and the counts of requests and tokens (a resumed run sends fewer: that is the point). */
    private static List<ObjectNode> comparable(Path dir) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode m : RunStore.readJsonl(dir.resolve("metrics.jsonl"), ObjectNode.class)) {
            ObjectNode c = m.deepCopy();
            c.remove(List.of("seconds", "oracle_requests", "oracle_prompt_tokens", "oracle_completion_tokens", "oracle_retries",
                    "oracle_malformed_answers"));
            out.add(c);
        }
        return out;
    }

    private static void assertSameRun(Path expected, Path actual) throws Exception {
        for (String f : List.of("iter-1/samples.jsonl", "iter-1/judgments.jsonl", "iter-1/train_pairs.jsonl", "iter-1/ref_logps.jsonl"))
            assertEquals(Files.readString(expected.resolve(f)), Files.readString(actual.resolve(f)), f);
        assertArrayEquals(Files.readAllBytes(expected.resolve("iter-1/checkpoint/model.safetensors")),
                Files.readAllBytes(actual.resolve("iter-1/checkpoint/model.safetensors")), "the trained checkpoint");
        assertEquals(comparable(expected), comparable(actual), "metrics");
    }

    private static List<String> sorted(List<String> messages) {
        List<String> out = new ArrayList<>(messages);
        java.util.Collections.sort(out);
        return out;
    }

    private List<String> answeredSince(int from) {
        return new ArrayList<>(answered.subList(from, answered.size()));
    }

    /**
     * An outage longer than the patience in the middle of the judging stops the run with exit code 1
     * and no marker; after the server is back, --resume asks exactly the judgments that were missing
     * (none twice) and the run ends as one never interrupted.
     */
    @Test
    void anOutageLongerThanThePatienceStopsTheRunAndResumeAsksExactlyTheMissingJudgments(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("uninterrupted");
        Cli ok = train(judged(), tmp, base);
        assertEquals(0, ok.code(), ok.err());
        // Two different requests can read the same (A and B swapped by the shuffle): compare multisets.
        List<String> all = sorted(answered);
        int judgingRequests = new RunStore(base).summary(1, "judgments").get("oracle_requests").asInt();
        assertEquals(10, judgingRequests, "one list-wise request per prompt");

        answered.clear();
        downAfter = 4;
        Path dir = tmp.resolve("interrupted");
        long start = System.nanoTime();
        Cli stopped = train(judged(), tmp, dir);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1, stopped.code(), stopped.err());
        assertTrue(stopped.err().contains("the judge is unavailable") && stopped.err().contains("patience 1.0 s")
                && stopped.err().contains("6 of 10 prompts still lack judgments")
                && stopped.err().contains("train --resume " + dir), stopped.err());
        assertFalse(Files.exists(dir.resolve("iter-1/done/judgments")), "the judging stage is not done");
        assertFalse(Files.exists(dir.resolve("iter-1/judgments.jsonl")), "no judgments file with judgments missing");
        assertTrue(Files.exists(dir.resolve("iter-1/done/samples")));
        List<String> beforeOutage = answeredSince(0);
        assertEquals(4, beforeOutage.size());
        assertTrue(seconds < 60, "the outage stopped the run after about its patience: " + seconds + " s");

        down = false;
        downAfter = Integer.MAX_VALUE;
        int from = answered.size();
        Cli resumed = cli("train", "--resume", dir.toString(), "--progress", "OFF");
        assertEquals(0, resumed.code(), resumed.err());
        List<String> both = new ArrayList<>(beforeOutage);
        both.addAll(answeredSince(from));
        assertEquals(all, sorted(both), "the interrupted run and its resume asked exactly what the uninterrupted run asked, "
                + "nothing twice");
        assertSameRun(base, dir);
    }

    /**
     * The JVM killed (as kill -9) after the judge has answered every prompt of iteration 1 but before
     * the stage's files are written: the resumed run's judging stage pays for nothing again.
     */
    @Test
    void afterAKillTheCachedJudgmentsAreNotPaidAgain(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("judged.json");
        Files.writeString(cfg, ConfigLoader.toJson(judged()));
        Path dir = tmp.resolve("killed");
        Path log = tmp.resolve("killed.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Ddno.haltAt=1:judgments:1", "-cp", System.getProperty("java.class.path"), "org.dnonative.cli.Main",
                "train", "--config", cfg.toString(), "--out", dir.toString(), "--progress", "OFF")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertEquals(137, p.waitFor(), Files.readString(log));
        assertFalse(Files.exists(dir.resolve("iter-1/done/judgments")));
        assertEquals(10, answered.size(), "the ten prompts of iteration 1 were judged before the kill");
        Cli resumed = cli("train", "--resume", dir.toString(), "--progress", "OFF");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(0, new RunStore(dir).summary(1, "judgments").get("oracle_requests").asInt(), "every judgment came from the cache");
        assertEquals(10, RunStore.readJsonl(dir.resolve("iter-1/judgments.jsonl"), ObjectNode.class).size());
    }

    /** {@code eval} keeps its judgments too: the same comparison twice is paid for once. */
    @Test
    void evalWithAJudgePaysForEachComparisonOnce(@TempDir Path tmp) throws Exception {
        Path prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"Say hi.\"}\n{\"prompt\": \"Count to three.\"}\n");
        String model = org.dnonative.model.Fixture.MODEL.toString();
        String[] args = {"eval", "--model", model, "--against", model, "--prompts", prompts.toString(), "-k", "2",
                "--max-new-tokens", "4", "--judge-url", server.baseUrl(), "--judge-model", "judge", "--judge-mode", "listwise",
                "--judge-api-key-env", "", "--judge-cache", tmp.resolve("cache").toString()};
        Cli first = cli(args);
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("win-rate of"), first.out());
        assertEquals(4, answered.size(), "2 prompts x 2 samples, one list-wise comparison each");
        Cli second = cli(args);
        assertEquals(0, second.code(), second.err());
        assertEquals(first.out(), second.out());
        assertEquals(4, answered.size(), "the second eval asked the judge nothing");
        assertEquals(2 + 4, server.requestCount(), "two endpoint checks and the four comparisons");
    }

    /** A model name the endpoint does not serve fails before anything is sampled, with one request, and writes nothing. */
    @Test
    void aWrongModelNameFailsBeforeTheRunStarts(@TempDir Path tmp) throws Exception {
        server.otherwise(request -> "judge".equals(request.path("model").asText()) ? respond(request)
                : status(400, null, "{\"error\":\"Model 'jduge' not found. Available: judge\"}"));
        Path dir = tmp.resolve("run");
        Cli refused = train(judged().with("oracle.judge.model", "jduge"), tmp, dir);
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().contains("field 'oracle.judge.model'") && refused.err().contains("Model 'jduge' not found"), refused.err());
        assertFalse(Files.exists(dir), "nothing written");
        assertEquals(1, server.requestCount(), "one request: the endpoint check");
    }

    /** A judge whose answers never parse stops the iteration, naming the cause and the share, and says so on the console. */
    @Test
    void aJudgeThatAnswersNothingUsableStopsTheIteration(@TempDir Path tmp) throws Exception {
        server.otherwise(request -> isProbe(request) ? answer("{\"ok\": true}") : answer("They are all lovely."));
        Path dir = tmp.resolve("run");
        Cli stopped = train(judged(), tmp, dir);
        assertEquals(1, stopped.code(), stopped.err());
        assertTrue(stopped.err().contains("10 unusable judgments of 10") && stopped.err().contains("max_unusable_share (0.5)")
                && stopped.err().contains("malformed: no JSON object in the answer"), stopped.err());
        assertTrue(stopped.out().contains("iteration 1: 10 of 10 judgments unusable (10 x malformed: no JSON object in the answer)"),
                stopped.out());
        assertFalse(Files.exists(dir.resolve("iter-1/done/judgments")));
        assertEquals(1 + 10 * 3, server.requestCount(), "the check, then each prompt asked 3 times (2 re-asks)");
    }

    /**
     * With the threshold off, a run whose judge answers nothing usable goes on with no pairs, and the
     * win-rates it cannot compute are JSON nulls, not the string "NaN".
     */
    @Test
    void numbersThatCannotBeComputedAreNull(@TempDir Path tmp) throws Exception {
        server.otherwise(request -> isProbe(request) ? answer("{\"ok\": true}") : answer("They are all lovely."));
        Path dir = tmp.resolve("run");
        Cli done = train(judged().with("oracle.judge.max_unusable_share", 1.0), tmp, dir);
        assertEquals(0, done.code(), done.err());
        JsonNode eval = RunStore.readTree(dir.resolve("iter-1/eval.json"));
        assertTrue(eval.has("winrate_vs_start") && eval.get("winrate_vs_start").isNull(), eval.toString());
        ObjectNode last = RunStore.readJsonl(dir.resolve("metrics.jsonl"), ObjectNode.class).get(1);
        assertTrue(last.get("winrate_vs_prev").isNull(), last.toString());
        assertEquals(0, last.get("pairs").asInt());
        for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) assertFalse(line.contains("NaN"), line);
        assertTrue(done.out().contains("evaluation comparisons unusable"), done.out());
    }

    /**
     * The teacher goes down while it writes the gold responses: the split is not saved, the run stops
     * with exit 1, and on --resume the teacher is asked only the prompts it had not answered.
     */
    @Test
    void teacherAnswersBeforeAnOutageAreNotAskedAgain(@TempDir Path tmp) throws Exception {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("teacher.kind", "endpoint");
        o.put("teacher.endpoint.base_url", server.baseUrl());
        o.put("teacher.endpoint.model", "teacher");
        o.put("teacher.endpoint.api_key_env", null);
        o.put("teacher.endpoint.concurrency", 2);
        o.put("teacher.endpoint.patience_seconds", 1.0);
        o.put("iterations", 1);
        DnoConfig c = DnoRunTest.tiny().with(o);
        downAfter = 7;
        Path dir = tmp.resolve("run");
        Cli stopped = train(c, tmp, dir);
        assertEquals(1, stopped.code(), stopped.err());
        assertTrue(stopped.err().contains("teacher teacher") && stopped.err().contains("train --resume"), stopped.err());
        assertFalse(Files.exists(dir.resolve("iter-0/split.json")), "the split is not saved without its gold responses");
        Predicate<String> teacherQuestion = m -> !m.contains("<response label=");
        List<String> before = answered.stream().filter(teacherQuestion).toList();
        assertEquals(7, before.size());

        down = false;
        downAfter = Integer.MAX_VALUE;
        int from = answered.size();
        Cli resumed = cli("train", "--resume", dir.toString(), "--progress", "OFF");
        assertEquals(0, resumed.code(), resumed.err());
        List<String> again = answeredSince(from).stream().filter(teacherQuestion).toList();
        int prompts = RunStore.readJsonl(dir.resolve("eval_prompts.jsonl"), ObjectNode.class).size()
                + RunStore.readJsonl(dir.resolve("iter-1/prompts.jsonl"), ObjectNode.class).size();
        assertTrue(prompts <= before.size() + again.size(), prompts + " prompts, " + before.size() + " + " + again.size() + " answers");
        Set<String> seen = new HashSet<>(before);
        for (String m : again) assertTrue(seen.add(m), "the teacher was asked again: " + m);
        for (ObjectNode p : RunStore.readJsonl(dir.resolve("iter-1/prompts.jsonl"), ObjectNode.class))
            assertTrue(p.path("gold").asText().startsWith("teacher says"), p.toString());
    }
}
