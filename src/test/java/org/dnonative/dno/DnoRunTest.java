package org.dnonative.dno;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.stage.Encoding;
import org.dnonative.dno.stage.Stage;
import org.dnonative.dno.store.Candidate;
import org.dnonative.dno.store.Judgment;
import org.dnonative.dno.store.Pair;
import org.dnonative.dno.store.PromptSamples;
import org.dnonative.dno.store.ReferenceLogps;
import org.dnonative.dno.store.RunStore;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * End-to-end runs with a tiny embedded policy: the files of a run and how they join, reference
 * log-probs from the frozen pi_t, and resume after a crash at every stage, after a crash in the
 * middle of a stage, and after the JVM was halted mid-stage. On the CPU with one libtorch thread
 * every stage is bitwise reproducible, so a resumed run must give byte-identical checkpoints and
 * metrics.
 */
public class DnoRunTest {
    static final Device CPU = new Device(torch.DeviceType.CPU);

    static Map<String, Object> tinyOverrides() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("iterations", 2);
        o.put("prompts.eval_count", 6);
        o.put("prompts.per_iteration", 10);
        o.put("sampling.samples", 3);
        o.put("sampling.max_new_tokens", 6);
        o.put("evaluation.samples", 2);
        o.put("training.batch_size", 8);
        o.put("training.micro_batch", 4);
        o.put("pairs.replay_fraction", 0.5);
        o.put("embedded.max_operand", 4);
        o.put("embedded.hidden_size", 16);
        o.put("embedded.intermediate_size", 32);
        o.put("embedded.layers", 1);
        o.put("embedded.heads", 2);
        o.put("embedded.kv_heads", 1);
        o.put("embedded.sft_steps", 15);
        o.put("embedded.sft_batch", 8);
        o.put("embedded.sft_learning_rate", 1e-2);
        return o;
    }

    /** A tiny embedded run: every stage in seconds (also the base of the distributed tests' runs). */
    public static DnoConfig tiny() {
        return DnoConfig.embeddedDefaults().with(tinyOverrides());
    }

    static PrintWriter quiet() {
        return new PrintWriter(new StringWriter());
    }

    static DnoRun.Result run(DnoConfig c, Path dir, StageHook hook) {
        return DnoRun.start(c, dir, hook, Progress.Mode.OFF, quiet()).run();
    }

    static DnoRun.Result resume(Path dir) {
        return DnoRun.resume(dir, null, Progress.Mode.OFF, quiet()).run();
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
                "iter-0/checkpoint/model.safetensors", "iter-0/checkpoint/tokenizer.json", "iter-0/eval_samples.jsonl", "iter-0/split.json")) {
            assertTrue(Files.exists(base.resolve(f)), f);
        }
        for (int t = 1; t <= 2; t++) {
            for (String f : List.of("prompts.jsonl", "samples.jsonl", "judgments.jsonl", "pairs.jsonl", "train_pairs.jsonl", "ref_logps.jsonl",
                    "checkpoint/model.safetensors", "checkpoint/config.json", "checkpoint/tokenizer_config.json", "train.json",
                    "eval_samples.jsonl", "eval.json", "metrics.json")) {
                assertTrue(Files.exists(base.resolve("iter-" + t).resolve(f)), "iter-" + t + "/" + f);
            }
            for (Stage s : DnoRun.ITERATION) assertTrue(Files.exists(base.resolve("iter-" + t + "/done/" + s.name())), s.name());
        }
        List<ObjectNode> metrics = RunStore.readJsonl(base.resolve("metrics.jsonl"), ObjectNode.class);
        assertEquals(3, metrics.size());
        for (ObjectNode m : metrics.subList(1, 3)) {
            for (String k : List.of("iteration", "pairs", "loss", "reward_margin", "winrate_vs_prev", "winrate_vs_start", "exploitability", "correct")) {
                assertTrue(m.has(k) && !m.get(k).isNull(), k + " in " + m);
            }
            assertTrue(m.get("pairs").asInt() > 0);
            for (String s : List.of("samples", "judgments", "pairs", "reference", "train", "eval"))
                assertTrue(m.path("seconds").path(s).isNumber(), "seconds of " + s + " in " + m);
        }
        assertTrue(metrics.get(2).get("pairs_replayed").asInt() > 0, "iteration 2 replays iteration 1's pairs");
        // prompts of the iterations and the held-out prompts do not overlap
        List<String> seen = new ArrayList<>();
        for (String f : List.of("eval_prompts.jsonl", "iter-1/prompts.jsonl", "iter-2/prompts.jsonl"))
            RunStore.readJsonl(base.resolve(f), ObjectNode.class).forEach(n -> seen.add(n.get("prompt").asText()));
        assertEquals(seen.size(), seen.stream().distinct().count());
        byte[] png = Files.readAllBytes(base.resolve("plot.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        try (var s = Files.list(base.resolve("iter-1"))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp") || p.getFileName().toString().endsWith(".partial")));
        }
    }

    /** Judgments, pairs and reference log-probs refer to samples and pairs by id, and every id resolves. */
    @Test
    void samplesJudgmentsPairsAndReferencesJoinByIds() {
        RunStore store = new RunStore(base);
        for (int t = 1; t <= 2; t++) {
            List<PromptSamples> samples = store.samples(t);
            Map<String, PromptSamples> byId = samples.stream().collect(Collectors.toMap(PromptSamples::promptId, s -> s));
            assertEquals(samples.size(), byId.size(), "prompt ids are unique");
            for (PromptSamples s : samples) {
                assertEquals(3, s.candidates().stream().filter(c -> !c.gold()).count());
                assertTrue(s.candidates().stream().anyMatch(c -> c.id().equals(Candidate.GOLD_ID)), "the teacher's gold response");
            }
            List<Judgment> judgments = store.judgments(t);
            assertEquals(byId.keySet(), judgments.stream().map(Judgment::promptId).collect(Collectors.toSet()));
            for (Judgment j : judgments) {
                PromptSamples s = byId.get(j.promptId());
                assertEquals(s.candidates().stream().map(Candidate::id).collect(Collectors.toSet()), j.scores().keySet(), j.promptId());
            }
            Set<String> pairIds = new HashSet<>();
            for (Pair p : store.trainPairs(t)) {
                assertTrue(pairIds.add(p.id()), "pair ids are unique: " + p.id());
                if (p.iteration() == t) {
                    String[] parts = p.id().split(":");
                    PromptSamples s = byId.get(parts[1]);
                    String[] wl = parts[2].split(">");
                    assertEquals(s.candidate(wl[0]).text(), p.chosen());
                    assertEquals(s.candidate(wl[1]).text(), p.rejected());
                }
            }
            assertEquals(pairIds, store.referenceLogps(t).stream().map(ReferenceLogps::pairId).collect(Collectors.toSet()));
        }
    }

    @Test
    void referenceLogprobsComeFromTheFrozenPreviousIterate() throws Exception {
        RunStore store = new RunStore(base);
        for (int t = 1; t <= 2; t++) {
            List<Pair> pairs = store.trainPairs(t);
            Map<String, ReferenceLogps> ref = store.referenceLogps(t).stream().collect(Collectors.toMap(ReferenceLogps::pairId, r -> r));
            Path piT = base.resolve("iter-" + (t - 1)).resolve("checkpoint"), next = base.resolve("iter-" + t).resolve("checkpoint");
            double maxDiffRef = 0, maxDiffNext = 0;
            try (Policy p = Policy.load(piT, CPU); Policy q = Policy.load(next, CPU)) {
                for (Pair pair : pairs) {
                    int[] prompt = Encoding.prompt(p, pair.prompt(), true);
                    ReferenceLogps r = ref.get(pair.id());
                    // one sequence at a time: independent of the batching the run used
                    SequenceScore chosen = new Scorer(p.model(), p.padId(), 1 << 20).score(List.of(prompt), List.of(pair.chosenIds())).get(0);
                    SequenceScore rejected = new Scorer(p.model(), p.padId(), 1 << 20).score(List.of(prompt), List.of(pair.rejectedIds())).get(0);
                    maxDiffRef = Math.max(maxDiffRef, Math.abs(chosen.logprob() - r.chosen()));
                    maxDiffRef = Math.max(maxDiffRef, Math.abs(rejected.logprob() - r.rejected()));
                    SequenceScore afterTraining = new Scorer(q.model(), q.padId(), 1 << 20).score(List.of(prompt), List.of(pair.chosenIds())).get(0);
                    maxDiffNext = Math.max(maxDiffNext, Math.abs(afterTraining.logprob() - r.chosen()));
                }
            }
            assertTrue(maxDiffRef < 1e-4, "reference log-probs are pi_" + t + "'s scores: max difference " + maxDiffRef);
            assertTrue(maxDiffNext > 1e-3, "and not those of the trained pi_" + (t + 1) + ": max difference " + maxDiffNext);
        }
    }

    static void assertSameAsBaseline(Path dir, DnoRun.Result resumed, String what) throws Exception {
        for (int t = 0; t <= 2; t++)
            assertArrayEquals(Files.readAllBytes(base.resolve("iter-" + t + "/checkpoint/model.safetensors")),
                    Files.readAllBytes(dir.resolve("iter-" + t + "/checkpoint/model.safetensors")), "checkpoint " + t + " after " + what);
        for (String f : List.of("iter-1/samples.jsonl", "iter-2/judgments.jsonl", "iter-2/train_pairs.jsonl", "iter-2/ref_logps.jsonl"))
            assertEquals(Files.readString(base.resolve(f)), Files.readString(dir.resolve(f)), f + " after " + what);
        assertEquals(withoutTimes(baseline.metrics()), withoutTimes(resumed.metrics()), "metrics after " + what);
        assertEquals(baseline.bestIteration(), resumed.bestIteration());
    }

    @Test
    void resumeAfterACrashAtEveryStageGivesTheSameResult(@TempDir Path tmp) throws Exception {
        List<String> crashes = new ArrayList<>();
        for (Stage s : DnoRun.START) crashes.add("0:" + s.name());
        for (Stage s : DnoRun.ITERATION) crashes.add("2:" + s.name());
        crashes.add("1:train");
        for (String at : crashes) {
            Path dir = tmp.resolve("crash-" + at.replace(':', '-'));
            StageHook crash = (t, s) -> {
                if ((t + ":" + s).equals(at)) throw new StageHook.InjectedFailure("crash at " + at);
            };
            assertThrows(StageHook.InjectedFailure.class, () -> run(tiny(), dir, crash), at);
            assertFalse(Files.exists(dir.resolve("iter-" + at.split(":")[0] + "/done/" + at.split(":")[1])), "no marker for " + at);
            assertSameAsBaseline(dir, resume(dir), "a crash at " + at);
        }
    }

    /** A failure half-way through a stage (after its first progress step, its files not all written): the stage is redone from its inputs. */
    @Test
    void resumeAfterAFailureInTheMiddleOfAStage(@TempDir Path tmp) throws Exception {
        for (String at : List.of("0:sft", "1:samples", "1:train", "2:reference", "2:eval")) {
            Path dir = tmp.resolve("mid-" + at.replace(':', '-'));
            int[] steps = {0};
            StageHook midway = new StageHook() {
                @Override
                public void beforeMarker(int t, String s) { }

                @Override
                public void during(int t, String s) {
                    if ((t + ":" + s).equals(at) && ++steps[0] == 1) throw new StageHook.InjectedFailure("failure in " + at);
                }
            };
            assertThrows(StageHook.InjectedFailure.class, () -> run(tiny(), dir, midway), at);
            assertSameAsBaseline(dir, resume(dir), "a failure in the middle of " + at);
        }
    }

    /**
     * The JVM itself killed in the middle of a stage (Runtime.halt: no finally blocks, no shutdown
     * hooks, whatever was half-written stays), then resumed: the same result as a run never stopped.
     */
    @Test
    void resumeAfterTheJvmWasKilledMidStage(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("tiny.json");
        Files.writeString(cfg, ConfigLoader.toJson(tiny()));
        for (String at : List.of("1:train:2", "2:samples:1")) {
            Path dir = tmp.resolve("killed-" + at.replace(':', '-'));
            Path log = tmp.resolve("killed-" + at.replace(':', '-') + ".log");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Ddno.haltAt=" + at, "-cp", System.getProperty("java.class.path"), "org.dnonative.cli.Main",
                    "train", "--config", cfg.toString(), "--out", dir.toString(), "--progress", "OFF")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            int code = p.waitFor();
            assertEquals(137, code, "the run was halted at " + at + ": " + Files.readString(log));
            String[] where = at.split(":");
            assertFalse(Files.exists(dir.resolve("iter-" + where[0] + "/done/" + where[1])), "halted before the marker of " + at);
            assertSameAsBaseline(dir, resume(dir), "the JVM was killed in " + at);
        }
    }

    /** A copy of a run stopped before its last training step, to resume with other flags. */
    static Path crashedBeforeTheLastTraining(Path tmp) {
        Path dir = tmp.resolve("run");
        StageHook crash = (t, s) -> {
            if (t == 2 && s.equals("train")) throw new StageHook.InjectedFailure("crash");
        };
        assertThrows(StageHook.InjectedFailure.class, () -> run(tiny(), dir, crash));
        return dir;
    }

    @Test
    void resumeTakesWhereToRunButNotWhatToCompute(@TempDir Path tmp) throws Exception {
        Path dir = crashedBeforeTheLastTraining(tmp);
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = org.dnonative.cli.Main.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(quiet());
        assertEquals(2, cl.execute("train", "--resume", dir.toString(), "--beta", "0.5", "--lr", "1e-3"));
        assertTrue(err.toString().contains("--beta, --lr") && err.toString().contains("--threads"), err.toString());
        byte[] before = Files.readAllBytes(dir.resolve("config.json"));
        assertEquals(0, cl.execute("train", "--resume", dir.toString(), "--threads", "1", "--progress", "OFF"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("config.json")), "the saved configuration is kept");
        assertEquals(withoutTimes(baseline.metrics()), withoutTimes(RunStore.readJsonl(dir.resolve("metrics.jsonl"), ObjectNode.class)));
        assertArrayEquals(Files.readAllBytes(base.resolve("iter-2/checkpoint/model.safetensors")),
                Files.readAllBytes(dir.resolve("iter-2/checkpoint/model.safetensors")));
    }

    @Test
    void resumeWithMoreIterationsGoesOnThroughThePromptPartsAgain(@TempDir Path tmp) throws Exception {
        Path dir = crashedBeforeTheLastTraining(tmp);
        assertThrows(ConfigException.class, () -> DnoRun.resume(dir, Map.of(), 1, null, Progress.Mode.OFF, quiet()));
        DnoRun.Result r = DnoRun.resume(dir, Map.of(), 3, null, Progress.Mode.OFF, quiet()).run();
        assertEquals(4, r.metrics().size(), "iterations 0..3");
        // Iterations 1 and 2 are the uninterrupted run's; iteration 3 trains pi_3 into pi_4 on part 1's prompts.
        assertEquals(withoutTimes(baseline.metrics()), withoutTimes(r.metrics().subList(0, 3)));
        assertArrayEquals(Files.readAllBytes(base.resolve("iter-2/checkpoint/model.safetensors")),
                Files.readAllBytes(dir.resolve("iter-2/checkpoint/model.safetensors")));
        assertEquals(Files.readString(dir.resolve("iter-1/prompts.jsonl")), Files.readString(dir.resolve("iter-3/prompts.jsonl")));
        assertTrue(Files.exists(dir.resolve("iter-3/checkpoint/model.safetensors")));
        assertEquals(3, ConfigLoader.loadSaved(dir.resolve("config.json")).iterations(), "the new count is saved");
        assertEquals(2, new RunStore(dir).split().parts(), "the split is not redone");
    }

    @Test
    void aValidationRunHoldsOutOtherPromptsAndPartsCycle(@TempDir Path tmp) throws Exception {
        // prompts.validation: the 6 prompts after the held-out ones are evaluated and not trained on;
        // the held-out ones go to training. prompts.parts 2 with 3 iterations: iteration 3 takes part 1 again.
        Path dir = tmp.resolve("v");
        DnoRun.Result r = run(tiny().with(Map.of("iterations", 3, "prompts.parts", 2, "prompts.validation", true)), dir, null);
        assertEquals(4, r.metrics().size(), "iterations 0..3");
        java.util.function.Function<Path, java.util.Set<String>> prompts = f -> {
            try (var lines = Files.lines(f)) {
                return lines.map(l -> l.replaceAll(".*\"prompt\":\"([^\"]*)\".*", "$1")).collect(java.util.stream.Collectors.toSet());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        var evaluation = prompts.apply(base.resolve("eval_prompts.jsonl"));
        var validation = prompts.apply(dir.resolve("eval_prompts.jsonl"));
        var training = new java.util.HashSet<>(prompts.apply(dir.resolve("iter-1/prompts.jsonl")));
        training.addAll(prompts.apply(dir.resolve("iter-2/prompts.jsonl")));
        assertEquals(6, evaluation.size());
        assertEquals(6, validation.size());
        assertTrue(validation.stream().noneMatch(evaluation::contains), "validation and evaluation prompts are disjoint");
        assertTrue(validation.stream().noneMatch(training::contains), "no validation prompt is trained on");
        assertTrue(training.containsAll(evaluation), "the evaluation prompts take their place in training");
        assertEquals(2, new RunStore(dir).split().parts());
        assertEquals(Files.readString(dir.resolve("iter-1/prompts.jsonl")), Files.readString(dir.resolve("iter-3/prompts.jsonl")));
        assertThrows(ConfigException.class, () -> DnoRun.start(tiny().with(Map.of("iterations", 3, "prompts.per_iteration", 20,
                "prompts.parts", 2)), tmp.resolve("w"), null, Progress.Mode.OFF, quiet()), "2 parts of 20 need 40 of 34 prompts");
    }

    @Test
    void aStartedRunRefusesAnOccupiedDirectory() {
        assertThrows(ConfigException.class, () -> run(tiny(), base, null));
    }

    @Test
    void softTargetsWithThePairwiseRule(@TempDir Path tmp) {
        DnoConfig c = tiny().with(Map.of("iterations", 1, "pairs.soft_targets", true, "pairs.rule", "pairwise",
                "pairs.pairwise_margin", 0.0, "training.loss", "libtorch"));
        DnoRun.Result r = run(c, tmp.resolve("soft"), null);
        List<Pair> pairs = new RunStore(tmp.resolve("soft")).trainPairs(1);
        assertFalse(pairs.isEmpty());
        for (Pair p : pairs) {
            assertEquals("pairwise", p.kind());
            assertTrue(p.target() > 0.5 && p.target() < 1 / (1 + Math.exp(-1)) + 1e-12, "sigma of an r_t difference in (0, 1]: " + p.target());
        }
        for (Judgment j : new RunStore(tmp.resolve("soft")).judgments(1)) {
            assertNull(j.scores());
            assertEquals(4, j.candidateIds().size(), "3 samples and the gold response");
        }
        assertTrue(Double.isFinite(r.metrics().get(1).get("loss").asDouble()));
    }

    /** The three training losses are one loss: the first iteration's training loss agrees. */
    @Test
    void fusedLmHeadAndLibtorchLossesTrainLikeTheNativeKernel(@TempDir Path tmp) {
        double baseLoss = baseline.metrics().get(1).get("loss").asDouble();
        for (String loss : List.of("fused", "libtorch")) {
            DnoRun.Result r = run(tiny().with(Map.of("iterations", 1, "training.loss", loss)), tmp.resolve(loss), null);
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
            // the one request of the endpoint check before the run (Preflight) asks for {"ok": true}
            String answer = prompt.startsWith("Reply with the JSON object") ? "{\"ok\": true}"
                    : "teacher says " + org.dnonative.oracle.builtin.ArithmeticTasks.parse(prompt).answer();
            byte[] body = json.createObjectNode().set("choices", json.createArrayNode().add(json.createObjectNode()
                    .set("message", json.createObjectNode().put("role", "assistant").put("content", answer)))).toString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("iterations", 1);
            o.put("teacher.kind", "endpoint");
            o.put("teacher.endpoint.base_url", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
            o.put("teacher.endpoint.model", "teacher");
            o.put("teacher.endpoint.api_key_env", null);
            Path d = tmp.resolve("teacher");
            run(tiny().with(o), d, null);
            int asked = requests.get();
            assertTrue(asked > 0);
            for (PromptSamples s : new RunStore(d).samples(1))
                assertTrue(s.candidate(Candidate.GOLD_ID).text().startsWith("teacher says"), "gold candidates come from the teacher");
            resume(d);
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
