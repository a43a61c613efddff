package org.dnonative.dist;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dno.DnoRun;
import org.dnonative.dno.Progress;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.RunStore;
import org.dnonative.io.SafetensorsFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel runs of the embedded policy on 127.0.0.1: two ranks ({@code train --nproc 2}) against
 * one process with the same global batch. Chunks (of sampling, judging and micro-batches) are
 * sharded whole, so samples, judgments and pairs must be byte-identical; training sums the ranks'
 * gradients, so losses and parameters agree within float rounding (the summation order differs).
 */
class DistributedRunTest {
    static final long SEED = 7;
    static final long LIMIT_S = 400;

    /** The tiny embedded run of DnoRunTest, with batches small enough that every stage has several chunks to share. */
    static DnoConfig tiny() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("seed", SEED);
        o.put("sampling.batch", 6);          // 2 prompts per sampling chunk (K=3): 5 chunks per iteration
        o.put("training.micro_batch", 2);     // 4 micro-batches per step (batch 8), 2 per rank
        // evaluation: 2 samples per prompt, so 3 prompts per evaluation chunk
        return org.dnonative.dno.DnoRunTest.tiny().with(o);
    }

    /** The same on the small HuggingFace fixture model (Llama, real tokenizer and chat template) with arithmetic prompts. */
    static DnoConfig hf(Path prompts) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("model", org.dnonative.model.Fixture.MODEL.toString());
        o.put("prompts.file", prompts.toString());
        o.put("iterations", 1);
        o.put("sampling.max_new_tokens", 4);
        return tiny().with(o);
    }

    static Path tmp, cfg, single, dual, hfSingle, hfDual;
    static Ranks ranks = new Ranks();

    @BeforeAll
    static void runs(@TempDir Path dir) throws Exception {
        tmp = dir;
        cfg = dir.resolve("tiny.json");
        Files.writeString(cfg, ConfigLoader.toJson(tiny()));
        single = dir.resolve("single");
        DnoRun.start(tiny(), single, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
        dual = dir.resolve("dual");
        Process p = ranks.start(dir.resolve("nproc.log"), Map.of(), List.of(),
                "train", "--nproc", "2", "--config", cfg.toString(), "--out", dual.toString(), "--progress", "LOG", "--dist-timeout", "60");
        assertEquals(0, ranks.await(p, LIMIT_S), "seed " + SEED + ": train --nproc 2 failed:\n" + ranks.logs());

        Path prompts = dir.resolve("prompts.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int a = 0; a < 6; a++) for (int b = 0; b < 6; b++) sb.append("{\"prompt\": \"").append(a).append('+').append(b).append("=\", \"gold\": \"").append(a + b).append("\"}\n");
        Files.writeString(prompts, sb.toString());
        Path hfCfg = dir.resolve("hf.json");
        Files.writeString(hfCfg, ConfigLoader.toJson(hf(prompts)));
        hfSingle = dir.resolve("hf-single");
        DnoRun.start(hf(prompts), hfSingle, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
        hfDual = dir.resolve("hf-dual");
        Process q = ranks.start(dir.resolve("hf-nproc.log"), Map.of(), List.of(),
                "train", "--nproc", "2", "--config", hfCfg.toString(), "--out", hfDual.toString(), "--progress", "OFF", "--dist-timeout", "60");
        assertEquals(0, ranks.await(q, LIMIT_S), "seed " + SEED + ": train --nproc 2 on the HF model failed:\n" + ranks.logs());
    }

    @AfterAll
    static void stop() {
        ranks.close();
    }

    @Test
    void twoRanksMakeTheSamePairsAsOne() throws Exception {
        samePairs(single, dual, 2);
        assertEquals(Files.readString(single.resolve("iter-0/eval_samples.jsonl")), Files.readString(dual.resolve("iter-0/eval_samples.jsonl")));
    }

    @Test
    void twoRanksTrainAsOneWithinFloatRounding() throws Exception {
        sameTraining(single, dual, 2);
    }

    @Test
    void onTheHuggingFaceModelTwoRanksMakeTheSamePairsAndTrainAsOne() throws Exception {
        samePairs(hfSingle, hfDual, 1);
        sameTraining(hfSingle, hfDual, 1);
    }

    /**
     * A launched world of one (WORLD_SIZE=1 with a master, as torchrun --nproc-per-node 1 or the GPU
     * check's NCCL world of 1 give) runs through a process group of its own and computes exactly
     * what a single process does: byte-identical checkpoints.
     */
    @Test
    void aLaunchedWorldOfOneIsBitwiseASingleProcess() throws Exception {
        Path one = tmp.resolve("world-of-one");
        Process p = ranks.start(tmp.resolve("one.log"), Map.of("RANK", "0", "WORLD_SIZE", "1", "MASTER_ADDR", "127.0.0.1",
                "MASTER_PORT", "" + Launcher.freePort()), List.of(), "train", "--config", cfg.toString(), "--out", one.toString(),
                "--progress", "OFF", "--dist-backend", "gloo", "--dist-timeout", "60");
        assertEquals(0, ranks.await(p, LIMIT_S), ranks.logs());
        assertTrue(Files.readString(tmp.resolve("one.log")).contains("[Gloo] Rank 0 is connected to 0 peer ranks"), "it joined a group");
        for (int t = 1; t <= 2; t++)
            org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(single.resolve("iter-" + t + "/checkpoint/model.safetensors")),
                    Files.readAllBytes(one.resolve("iter-" + t + "/checkpoint/model.safetensors")), "iteration " + t);
    }

    /**
     * torchrun itself (where it is installed) starts the ranks unchanged: {@code torchrun --standalone
     * --no-python java ...}, whose agent hosts the store (TORCHELASTIC_USE_AGENT_STORE), gives the
     * pairs one process gives.
     */
    @Test
    void torchrunStartsTheRanksUnchanged() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(onPath("torchrun"), "torchrun is not installed");
        Path dir = tmp.resolve("torchrun");
        List<String> cmd = new java.util.ArrayList<>(List.of("torchrun", "--standalone", "--nproc-per-node", "2", "--no-python",
                Ranks.java(), "-Xmx1g", "-cp", System.getProperty("java.class.path"), "org.dnonative.cli.Main",
                "train", "--config", cfg.toString(), "--out", dir.toString(), "--progress", "OFF", "--dist-timeout", "60"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("torchrun.log").toFile()).start();
        ranks.procs.add(p);
        ranks.logs.add(tmp.resolve("torchrun.log"));
        assertEquals(0, ranks.await(p, LIMIT_S), ranks.logs());
        samePairs(single, dir, 2);
    }

    static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) return true;
        return false;
    }

    static void samePairs(Path single, Path dual, int iterations) throws Exception {
        for (int t = 1; t <= iterations; t++)
            for (String f : List.of("prompts.jsonl", "samples.jsonl", "judgments.jsonl", "pairs.jsonl", "train_pairs.jsonl"))
                assertEquals(Files.readString(single.resolve("iter-" + t).resolve(f)), Files.readString(dual.resolve("iter-" + t).resolve(f)),
                        "seed " + SEED + ": " + dual + ": iter-" + t + "/" + f + " differs between 1 and 2 ranks");
    }

    static void sameTraining(Path single, Path dual, int iterations) throws Exception {
        for (int t = 1; t <= iterations; t++) {
            List<ObjectNode> r1 = RunStore.readJsonl(single.resolve("iter-" + t + "/ref_logps.jsonl"), ObjectNode.class);
            List<ObjectNode> r2 = RunStore.readJsonl(dual.resolve("iter-" + t + "/ref_logps.jsonl"), ObjectNode.class);
            assertEquals(r1.size(), r2.size());
            for (int i = 0; i < r1.size(); i++)
                for (String k : List.of("chosen", "rejected"))
                    assertClose(r1.get(i).get(k).asDouble(), r2.get(i).get(k).asDouble(), 1e-5, "iter-" + t + " ref " + i + " " + k);
            ObjectNode a = (ObjectNode) RunStore.readTree(single.resolve("iter-" + t + "/train.json"));
            ObjectNode b = (ObjectNode) RunStore.readTree(dual.resolve("iter-" + t + "/train.json"));
            assertEquals(a.get("steps").asInt(), b.get("steps").asInt());
            assertTrue(a.get("steps").asInt() >= 2, "seed " + SEED + ": a test of gradient exchange needs several steps, got " + a);
            for (String k : List.of("loss", "reward_margin"))
                assertClose(a.get(k).asDouble(), b.get(k).asDouble(), 1e-4, "iter-" + t + " " + k);
            // The accuracy counts pairs with z > 0, and each epoch starts at the reference, where z is 0
            // up to float rounding: a pair there may count on one side and not the other. At most one
            // pair's share apart, then.
            double pairShare = 1.0 / Math.max(1, r1.size());   // ref_logps.jsonl: one line per trained pair
            assertTrue(Math.abs(a.get("reward_accuracy").asDouble() - b.get("reward_accuracy").asDouble()) <= pairShare + 1e-9,
                    "seed " + SEED + ": iter-" + t + " reward_accuracy: 1 rank " + a.get("reward_accuracy") + ", 2 ranks "
                            + b.get("reward_accuracy") + " (more than one pair apart)");
            try (SafetensorsFile x = SafetensorsFile.open(single.resolve("iter-" + t + "/checkpoint/model.safetensors"));
                 SafetensorsFile y = SafetensorsFile.open(dual.resolve("iter-" + t + "/checkpoint/model.safetensors"))) {
                assertEquals(x.tensors().keySet(), y.tensors().keySet());
                for (String n : x.tensors().keySet()) {
                    float[] u = x.readFloats(n), v = y.readFloats(n);
                    assertEquals(u.length, v.length, n);
                    for (int i = 0; i < u.length; i++)
                        assertEquals(u[i], v[i], 1e-5f + 1e-4f * Math.abs(u[i]), "seed " + SEED + ": iter-" + t + " " + n + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void everyRankHeldBitwiseTheSameParametersAndOnlyRankZeroWrote() throws Exception {
        for (int t = 1; t <= 2; t++) {
            ObjectNode b = (ObjectNode) RunStore.readTree(dual.resolve("iter-" + t + "/train.json"));
            // the run fails unless every rank's checksum equals rank 0's; it must be the saved parameters' checksum
            assertTrue(b.get("param_checksum").asText().matches("[0-9a-f]{8}"), b.toString());
        }
        String log = Files.readString(tmp.resolve("nproc.log"));
        assertTrue(log.contains("[rank 0] "), log);
        assertTrue(log.contains("[rank 0] [main] INFO dno - iteration 2 of 2"), log);
        assertFalse(log.contains("[rank 1] [main] INFO dno - iteration"), "only rank 0 reports progress:\n" + log);
        try (var s = Files.walk(dual)) {
            assertFalse(s.anyMatch(f -> f.getFileName().toString().contains(".partial")), "no partial files");
        }
    }

    static void assertClose(double expected, double actual, double rel, String what) {
        assertTrue(Math.abs(expected - actual) <= rel * Math.max(1e-12, Math.abs(expected)) + 1e-9,
                "seed " + SEED + ": " + what + ": 1 rank " + expected + ", 2 ranks " + actual);
    }
}
