package org.dnonative.dist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dno.DnoRun;
import org.dnonative.dno.Progress;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.oracle.judge.ScriptedChatServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.dnonative.oracle.judge.ScriptedChatServer.JSON;
import static org.dnonative.oracle.judge.ScriptedChatServer.answer;
import static org.dnonative.oracle.judge.ScriptedChatServer.isProbe;
import static org.dnonative.oracle.judge.ScriptedChatServer.shownResponses;
import static org.dnonative.oracle.judge.ScriptedChatServer.userMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ranks judging their shards against one loopback judge: together they ask exactly what one process
 * asks (no request twice, none missing), their judgments land in one cache, and a rank killed
 * while judging loses nothing it was answered: a resume with another number of processes asks only
 * what is missing.
 */
class DistributedJudgeTest {
    private ScriptedChatServer server;
    /** User messages of the requests the judge answered, in order. */
    private final List<String> answered = new CopyOnWriteArrayList<>();
    private final Ranks ranks = new Ranks();

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedChatServer();
        server.otherwise(this::respond);
    }

    @AfterEach
    void stop() {
        ranks.close();
        server.close();
    }

    /** A list-wise judge whose score of a response is a fixed function of its text. */
    private ScriptedChatServer.Action respond(JsonNode request) {
        if (isProbe(request)) return answer("{\"ok\": true}");
        answered.add(userMessage(request));
        ObjectNode scores = JSON.createObjectNode();
        shownResponses(request).forEach((label, text) -> scores.put(label, Math.floorMod(text.hashCode(), 7)));
        return answer(scores.toString());
    }

    private DnoConfig judged() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("oracle.kind", "judge");
        o.put("oracle.mode", "listwise");
        o.put("oracle.judge.base_url", server.baseUrl());
        o.put("oracle.judge.model", "judge");
        o.put("oracle.judge.api_key_env", null);
        o.put("oracle.judge.concurrency", 2);
        o.put("oracle.judge.patience_seconds", 1.0);
        return DistributedRunTest.tiny().with(o);
    }

    private static List<String> sorted(List<String> l) {
        List<String> out = new ArrayList<>(l);
        Collections.sort(out);
        return out;
    }

    private List<String> single(Path tmp) {
        DnoRun.start(judged(), tmp.resolve("single"), null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
        List<String> asked = new ArrayList<>(answered);
        answered.clear();
        return asked;
    }

    @Test
    void twoRanksAskTheJudgeExactlyWhatOneAsksAndShareOneCache(@TempDir Path tmp) throws Exception {
        List<String> one = single(tmp);
        Path cfg = tmp.resolve("judged.json"), dual = tmp.resolve("dual");
        Files.writeString(cfg, ConfigLoader.toJson(judged()));
        Process p = ranks.start(tmp.resolve("nproc.log"), Map.of(), List.of(), "train", "--nproc", "2", "--config", cfg.toString(),
                "--out", dual.toString(), "--progress", "OFF", "--dist-timeout", "60");
        assertEquals(0, ranks.await(p, 400), ranks.logs());
        assertTrue(one.size() > 20, "the run asks the judge in several stages: " + one.size());
        // (two requests can read alike when the shuffle swaps two candidates: compare multisets)
        assertEquals(sorted(one), sorted(answered), "two ranks asked what one process asks, nothing twice");
        for (int t = 1; t <= 2; t++)
            for (String f : List.of("judgments.jsonl", "train_pairs.jsonl"))
                assertEquals(Files.readString(tmp.resolve("single/iter-" + t + "/" + f)), Files.readString(dual.resolve("iter-" + t + "/" + f)), f);
        try (var s = Files.list(dual.resolve("oracle-cache"))) {
            assertEquals(List.of("judgments.jsonl"), s.map(f -> f.getFileName().toString()).sorted().toList(),
                    "rank 0 merged the ranks' files into one cache");
        }
    }

    @Test
    void aRankKilledWhileJudgingLosesNothingAndOneProcessAsksOnlyWhatIsMissing(@TempDir Path tmp) throws Exception {
        List<String> one = single(tmp);
        Path cfg = tmp.resolve("judged.json"), dir = tmp.resolve("run");
        Files.writeString(cfg, ConfigLoader.toJson(judged()));
        // rank 1's progress steps in judging: rank 0's batch (skipped), then its own, judged and cached: halt there
        List<Process> p = ranks.startRanks(tmp, 2, List.of(List.of(), List.of("-Ddno.haltAt=1:judgments:2")),
                "train", "--config", cfg.toString(), "--out", dir.toString(), "--progress", "OFF", "--dist-timeout", "20");
        assertEquals(137, ranks.await(p.get(1), 300), ranks.logs());
        assertEquals(1, ranks.await(p.get(0), 60), ranks.logs());
        assertFalse(Files.exists(dir.resolve("iter-1/done/judgments")));
        assertTrue(Files.exists(dir.resolve("oracle-cache/judgments.rank-1.jsonl")), "rank 1 cached its judgments in its own file");
        List<String> before = new ArrayList<>(answered);
        answered.clear();
        DnoRun.resume(dir, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
        List<String> all = new ArrayList<>(before);
        all.addAll(answered);
        assertEquals(sorted(one), sorted(all), "the two ranks and the resume together asked what one run asks, nothing twice");
        assertEquals(Files.readString(tmp.resolve("single/iter-1/judgments.jsonl")), Files.readString(dir.resolve("iter-1/judgments.jsonl")));
        assertFalse(Files.exists(dir.resolve("oracle-cache/judgments.rank-1.jsonl")), "merged at the end of the resumed run");
    }
}
