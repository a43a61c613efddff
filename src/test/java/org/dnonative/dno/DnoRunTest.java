package org.dnonative.dno;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.Policy;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceScore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * End-to-end runs with a tiny embedded policy: the files of a run, reference log-probs from the
 * frozen pi_t, and resume after a crash at every stage. On the CPU with one libtorch thread every
 * stage is bitwise reproducible, so a resumed run must give byte-identical checkpoints and metrics.
 */
class DnoRunTest {
    static final Device CPU = new Device(torch.DeviceType.CPU);

    static DnoConfig tiny() {
        DnoConfig c = DnoConfig.embeddedDefaults();
        c.iterations = 2;
        c.evalPrompts = 6;
        c.promptsPerIteration = 10;
        c.samples = 3;
        c.maxNewTokens = 6;
        c.evalSamples = 2;
        c.batchSize = 8;
        c.microBatch = 4;
        c.replayFraction = 0.5;
        c.embedded.maxOperand = 4;
        c.embedded.hiddenSize = 16;
        c.embedded.intermediateSize = 32;
        c.embedded.layers = 1;
        c.embedded.heads = 2;
        c.embedded.kvHeads = 1;
        c.embedded.sftSteps = 15;
        c.embedded.sftBatch = 8;
        c.embedded.sftLearningRate = 1e-2;
        return c;
    }

    static DnoRun.Result run(DnoConfig c, Path dir, StageHook hook) {
        return DnoRun.start(c, dir, hook, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
    }

    static Path base;
    static DnoRun.Result baseline;

    @BeforeAll
    static void uninterrupted(@TempDir Path tmp) {
        base = tmp.resolve("base");
        baseline = run(tiny(), base, null);
    }

    @Test
    void aRunWritesEveryStagesFiles() throws Exception {
        for (String f : List.of("config.json", "metrics.jsonl", "summary.txt", "plot.png", "best.json", "eval_prompts.jsonl",
                "iter-0/checkpoint/model.safetensors", "iter-0/checkpoint/tokenizer.json", "iter-0/eval_samples.jsonl")) {
            assertTrue(Files.exists(base.resolve(f)), f);
        }
        for (int t = 1; t <= 2; t++) {
            for (String f : List.of("prompts.jsonl", "samples.jsonl", "judgments.jsonl", "pairs.jsonl", "train_pairs.jsonl", "ref_logps.jsonl",
                    "checkpoint/model.safetensors", "checkpoint/config.json", "checkpoint/tokenizer_config.json", "train.json",
                    "eval_samples.jsonl", "eval.json", "metrics.json")) {
                assertTrue(Files.exists(base.resolve("iter-" + t).resolve(f)), "iter-" + t + "/" + f);
            }
        }
        List<ObjectNode> metrics = RunDirectory.readJsonl(base.resolve("metrics.jsonl"));
        assertEquals(3, metrics.size());
        for (ObjectNode m : metrics.subList(1, 3)) {
            for (String k : List.of("iteration", "pairs", "loss", "reward_margin", "winrate_vs_prev", "winrate_vs_start", "exploitability")) {
                assertTrue(m.has(k) && !m.get(k).isNull(), k + " in " + m);
            }
            assertTrue(m.get("pairs").asInt() > 0);
        }
        assertTrue(metrics.get(2).get("pairs_replayed").asInt() > 0, "iteration 2 replays iteration 1's pairs");
        // prompts of the iterations and the held-out prompts do not overlap
        List<String> seen = new ArrayList<>();
        for (String f : List.of("eval_prompts.jsonl", "iter-1/prompts.jsonl", "iter-2/prompts.jsonl"))
            RunDirectory.readJsonl(base.resolve(f)).forEach(n -> seen.add(n.get("prompt").asText()));
        assertEquals(seen.size(), seen.stream().distinct().count());
        byte[] png = Files.readAllBytes(base.resolve("plot.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        try (var s = Files.list(base.resolve("iter-1"))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp") || p.getFileName().toString().endsWith(".partial")));
        }
    }

    @Test
    void referenceLogprobsComeFromTheFrozenPreviousIterate() throws Exception {
        DnoConfig c = tiny();
        for (int t = 1; t <= 2; t++) {
            List<Pair> pairs = DnoRun.readPairs(base.resolve("iter-" + t).resolve("train_pairs.jsonl"));
            List<ObjectNode> ref = RunDirectory.readJsonl(base.resolve("iter-" + t).resolve("ref_logps.jsonl"));
            assertEquals(pairs.size(), ref.size());
            Path piT = base.resolve("iter-" + (t - 1)).resolve("checkpoint"), next = base.resolve("iter-" + t).resolve("checkpoint");
            double maxDiffRef = 0, maxDiffNext = 0;
            try (Policy p = Policy.load(piT, CPU); Policy q = Policy.load(next, CPU)) {
                for (int i = 0; i < pairs.size(); i++) {
                    Pair pair = pairs.get(i);
                    int[] prompt = DnoRun.encodePrompt(c, p, pair.prompt());
                    // one sequence at a time: independent of the batching the run used
                    SequenceScore chosen = new Scorer(p.model(), p.padId(), 1 << 20).score(List.of(prompt), List.of(pair.chosenIds())).get(0);
                    SequenceScore rejected = new Scorer(p.model(), p.padId(), 1 << 20).score(List.of(prompt), List.of(pair.rejectedIds())).get(0);
                    maxDiffRef = Math.max(maxDiffRef, Math.abs(chosen.logprob() - ref.get(i).get("chosen").asDouble()));
                    maxDiffRef = Math.max(maxDiffRef, Math.abs(rejected.logprob() - ref.get(i).get("rejected").asDouble()));
                    SequenceScore afterTraining = new Scorer(q.model(), q.padId(), 1 << 20).score(List.of(prompt), List.of(pair.chosenIds())).get(0);
                    maxDiffNext = Math.max(maxDiffNext, Math.abs(afterTraining.logprob() - ref.get(i).get("chosen").asDouble()));
                }
            }
            assertTrue(maxDiffRef < 1e-4, "reference log-probs are pi_" + t + "'s scores: max difference " + maxDiffRef);
            assertTrue(maxDiffNext > 1e-3, "and not those of the trained pi_" + (t + 1) + ": max difference " + maxDiffNext);
        }
    }

    @Test
    void resumeAfterACrashAtEveryStageGivesTheSameResult(@TempDir Path tmp) throws Exception {
        List<String> crashes = new ArrayList<>(List.of("0:split", "0:sft", "0:eval", "0:metrics"));
        for (String s : DnoRun.STAGES) crashes.add("2:" + s);
        crashes.add("1:train");
        for (String at : crashes) {
            Path dir = tmp.resolve("crash-" + at.replace(':', '-'));
            StageHook crash = (t, s) -> {
                if ((t + ":" + s).equals(at)) throw new StageHook.InjectedFailure("crash at " + at);
            };
            assertThrows(StageHook.InjectedFailure.class, () -> run(tiny(), dir, crash), at);
            DnoRun.Result resumed = DnoRun.resume(dir, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
            assertArrayEquals(Files.readAllBytes(base.resolve("iter-2/checkpoint/model.safetensors")),
                    Files.readAllBytes(dir.resolve("iter-2/checkpoint/model.safetensors")), "final checkpoint after a crash at " + at);
            assertEquals(withoutTimes(baseline.metrics()), withoutTimes(resumed.metrics()), "metrics after a crash at " + at);
            assertEquals(baseline.bestIteration(), resumed.bestIteration());
        }
    }

    /** A copy of the finished baseline run, to resume without touching it. */
    static Path copyOfBase(Path tmp) throws Exception {
        Path copy = tmp.resolve("run");
        try (var files = Files.walk(base)) {
            for (Path p : files.toList()) {
                Path to = copy.resolve(base.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(to);
                else Files.copy(p, to);
            }
        }
        return copy;
    }

    @Test
    void resumeTakesWhereToRunButNotWhatToCompute(@TempDir Path tmp) throws Exception {
        Path copy = copyOfBase(tmp);
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = org.dnonative.cli.Main.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute("train", "--resume", copy.toString(), "--beta", "0.5", "--lr", "1e-3"));
        assertTrue(err.toString().contains("--beta, --lr") && err.toString().contains("--threads"), err.toString());
        byte[] before = Files.readAllBytes(copy.resolve("config.json"));
        assertEquals(0, cl.execute("train", "--resume", copy.toString(), "--threads", "1", "--progress", "OFF"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(copy.resolve("config.json")), "the saved configuration is kept");
        assertEquals(withoutTimes(baseline.metrics()), withoutTimes(RunDirectory.readJsonl(copy.resolve("metrics.jsonl"))));
    }

    @Test
    void resumeWithMoreIterationsGoesOnThroughThePromptPartsAgain(@TempDir Path tmp) throws Exception {
        Path copy = copyOfBase(tmp);
        PrintWriter quiet = new PrintWriter(new StringWriter());
        assertThrows(ConfigException.class, () -> DnoRun.resume(copy, c -> {}, 1, null, Progress.Mode.OFF, quiet));
        assertEquals(2, RunDirectory.readJson(copy.resolve("iter-0/split.json")).path("parts").asInt());
        Files.delete(copy.resolve("iter-0/split.json"));  // as in run directories made before split.json
        DnoRun.Result r = DnoRun.resume(copy, c -> {}, 3, null, Progress.Mode.OFF, quiet).run();
        assertEquals(4, r.metrics().size(), "iterations 0..3");
        // Iterations 1 and 2 are untouched; iteration 3 trains pi_3 into pi_4 on part 1's prompts.
        assertEquals(withoutTimes(baseline.metrics()), withoutTimes(r.metrics().subList(0, 3)));
        assertArrayEquals(Files.readAllBytes(base.resolve("iter-2/checkpoint/model.safetensors")),
                Files.readAllBytes(copy.resolve("iter-2/checkpoint/model.safetensors")));
        assertEquals(Files.readString(copy.resolve("iter-1/prompts.jsonl")), Files.readString(copy.resolve("iter-3/prompts.jsonl")));
        assertTrue(Files.exists(copy.resolve("iter-3/checkpoint/model.safetensors")));
        assertEquals(3, RunDirectory.readJson(copy.resolve("config.json")).path("iterations").asInt(), "the new count is saved");
        assertEquals(2, RunDirectory.readJson(copy.resolve("iter-0/split.json")).path("parts").asInt(), "parts counted before the copy");
        // A plain resume now keeps the 3 iterations and has nothing left to do.
        assertEquals(4, DnoRun.resume(copy, null, Progress.Mode.OFF, quiet).run().metrics().size());
    }

    @Test
    void aStartedRunRefusesAnOccupiedDirectory() {
        assertThrows(ConfigException.class, () -> run(tiny(), base, null));
    }

    @Test
    void softTargetsWithThePairwiseRule(@TempDir Path tmp) {
        DnoConfig c = tiny();
        c.iterations = 1;
        c.softTargets = true;
        c.pairRule = "pairwise";
        c.pairwiseMargin = 0.0;
        c.loss = "libtorch";
        DnoRun.Result r = run(c, tmp.resolve("soft"), null);
        List<Pair> pairs = DnoRun.readPairs(tmp.resolve("soft/iter-1/train_pairs.jsonl"));
        assertFalse(pairs.isEmpty());
        for (Pair p : pairs) {
            assertEquals("pairwise", p.kind());
            assertTrue(p.target() > 0.5 && p.target() < 1 / (1 + Math.exp(-1)) + 1e-12, "sigma of an r_t difference in (0, 1]: " + p.target());
        }
        assertTrue(Double.isFinite(r.metrics().get(1).get("loss").asDouble()));
    }

    /** The three training losses are one loss: the first iteration's training loss agrees. */
    @Test
    void fusedLmHeadAndLibtorchLossesTrainLikeTheNativeKernel(@TempDir Path tmp) {
        double baseLoss = baseline.metrics().get(1).get("loss").asDouble();
        for (String loss : List.of("fused", "libtorch")) {
            DnoConfig c = tiny();
            c.iterations = 1;
            c.loss = loss;
            DnoRun.Result r = run(c, tmp.resolve(loss), null);
            assertEquals(baseLoss, r.metrics().get(1).get("loss").asDouble(), 1e-4, loss);
        }
    }

    /** A teacher behind an OpenAI-compatible endpoint writes the gold responses, once. */
    @Test
    void teacherEndpointWritesTheGoldResponsesOnce(@TempDir Path tmp) throws Exception {
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        server.createContext("/v1/chat/completions", exchange -> {
            requests.incrementAndGet();
            String prompt = json.readTree(exchange.getRequestBody().readAllBytes()).path("messages").path(0).path("content").asText();
            String answer = "teacher says " + org.dnonative.oracle.builtin.ArithmeticTasks.parse(prompt).answer();
            byte[] body = json.createObjectNode().set("choices", json.createArrayNode().add(json.createObjectNode()
                    .set("message", json.createObjectNode().put("role", "assistant").put("content", answer)))).toString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            DnoConfig c = tiny();
            c.iterations = 1;
            c.teacher = "endpoint";
            c.teacherEndpoint.baseUrl = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
            c.teacherEndpoint.model = "teacher";
            c.teacherEndpoint.apiKeyEnv = null;
            Path d = tmp.resolve("teacher");
            run(c, d, null);
            int asked = requests.get();
            assertTrue(asked > 0);
            String samples = Files.readString(d.resolve("iter-1/samples.jsonl"));
            assertTrue(samples.contains("\"origin\":\"gold\"") && samples.contains("teacher says"), "gold candidates come from the teacher");
            DnoRun.resume(d, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
            assertEquals(asked, requests.get(), "a resumed run asks the teacher nothing again");
        } finally {
            server.stop(0);
        }
    }

    static List<ObjectNode> withoutTimes(List<ObjectNode> metrics) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode m : metrics) {
            ObjectNode c = m.deepCopy();
            c.remove("seconds");
            out.add(c);
        }
        return out;
    }
}
