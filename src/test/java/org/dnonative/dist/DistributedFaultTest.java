package org.dnonative.dist;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dno.DnoRun;
import org.dnonative.dno.Progress;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.store.RunStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults in a distributed run: a rank killed mid-training, a rank stopped (hung), ranks started with
 * different configurations. Each ends the run within the timeout, with a message naming the rank,
 * and leaves no partial result: {@code --resume}, with another number of processes, finishes it as
 * a run never stopped would.
 */
class DistributedFaultTest {
    static final int TIMEOUT_S = 20;
    final Ranks ranks = new Ranks();

    @AfterEach
    void stop() {
        ranks.close();
    }

    static Path config(Path tmp) throws Exception {
        Path cfg = tmp.resolve("tiny.json");
        Files.writeString(cfg, ConfigLoader.toJson(DistributedRunTest.tiny()));
        return cfg;
    }

    @Test
    void aRankKilledMidTrainingEndsTheRunAndResumeFinishesIt(@TempDir Path tmp) throws Exception {
        Path cfg = config(tmp), dir = tmp.resolve("run");
        List<Process> p = ranks.startRanks(tmp, 2, List.of(List.of(), List.of("-Ddno.haltAt=1:train:2")),
                "train", "--config", cfg.toString(), "--out", dir.toString(), "--progress", "OFF", "--dist-timeout", "" + TIMEOUT_S);
        assertEquals(137, ranks.await(p.get(1), 300), "rank 1 halts at 1:train:2\n" + ranks.logs());
        long died = System.nanoTime();
        assertEquals(1, ranks.await(p.get(0), TIMEOUT_S + 30), "rank 0 ends the run\n" + ranks.logs());
        double took = (System.nanoTime() - died) / 1e9;
        assertTrue(took < TIMEOUT_S + 10, "rank 0 ended " + took + " s after rank 1 died (timeout " + TIMEOUT_S + " s)\n" + ranks.logs());
        String log0 = Files.readString(tmp.resolve("rank-0.log"));
        assertTrue(log0.contains("error: ") && log0.contains("rank 1 sent no heartbeat in the last 2 s: it died or hung"), "names the dead rank:\n" + log0);
        assertFalse(Files.exists(dir.resolve("iter-1/done/train")), "no marker for the interrupted stage");
        assertFalse(Files.exists(dir.resolve("iter-1/checkpoint")), "no checkpoint of the interrupted training");
        assertTrue(Files.exists(dir.resolve("iter-1/done/reference")), "the stages before it are kept");

        // one process resumes what two began, and finishes as a single process does from the start
        DnoRun.Result r = DnoRun.resume(dir, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
        assertEquals(3, r.metrics().size());
        Path fresh = tmp.resolve("fresh");
        DnoRun.start(DistributedRunTest.tiny(), fresh, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
        for (int t = 1; t <= 2; t++) {
            assertEquals(Files.readString(fresh.resolve("iter-" + t + "/train_pairs.jsonl")), Files.readString(dir.resolve("iter-" + t + "/train_pairs.jsonl")),
                    "seed " + DistributedRunTest.SEED + ": iteration " + t + "'s pairs");
            ObjectNode a = (ObjectNode) RunStore.readTree(fresh.resolve("iter-" + t + "/train.json"));
            ObjectNode b = (ObjectNode) RunStore.readTree(dir.resolve("iter-" + t + "/train.json"));
            DistributedRunTest.assertClose(a.get("loss").asDouble(), b.get("loss").asDouble(), 1e-4, "iteration " + t + "'s loss after resume");
        }
    }

    @Test
    void aStoppedRankEndsTheRunWithinTheTimeoutNamingIt(@TempDir Path tmp) throws Exception {
        Path cfg = config(tmp), dir = tmp.resolve("run"), log = tmp.resolve("nproc.log");
        Process launcher = ranks.start(log, java.util.Map.of(), List.of(), "train", "--nproc", "2", "--config", cfg.toString(), "--out",
                dir.toString(), "--progress", "OFF", "--dist-timeout", "" + TIMEOUT_S);
        // stop rank 1 (SIGSTOP: alive, silent) once the run is in its first iteration
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (!Files.exists(dir.resolve("iter-1/done/samples"))) {
            assertTrue(launcher.isAlive() && System.nanoTime() < deadline, "the run reaches iteration 1\n" + Files.readString(log));
            Thread.sleep(50);
        }
        ProcessHandle rank1 = rank(launcher, 1).orElseThrow(() -> new AssertionError("no rank 1 among the launcher's children"));
        assertEquals(0, new ProcessBuilder("kill", "-STOP", "" + rank1.pid()).start().waitFor());
        long stopped = System.nanoTime();
        assertEquals(1, ranks.await(launcher, TIMEOUT_S + 60), Files.readString(log));
        double took = (System.nanoTime() - stopped) / 1e9;
        String out = Files.readString(log);
        assertTrue(took < TIMEOUT_S + Launcher.GRACE_MS / 1000.0 + 10, "the run ended " + took + " s after rank 1 stopped\n" + out);
        assertTrue(out.contains("rank 1 has sent no heartbeat"), "the message names the stopped rank:\n" + out);
        assertFalse(rank1.isAlive(), "the launcher killed the stopped rank");
        assertFalse(Files.exists(dir.resolve("iter-1/done/metrics")));

        // two processes resume what two began, and finish as one process does from the start
        Process resumed = ranks.start(tmp.resolve("resume.log"), java.util.Map.of(), List.of(), "train", "--nproc", "2", "--resume", dir.toString(),
                "--progress", "OFF", "--dist-timeout", "" + TIMEOUT_S);
        assertEquals(0, ranks.await(resumed, 300), ranks.logs());
        Path fresh = tmp.resolve("fresh");
        DnoRun.start(DistributedRunTest.tiny(), fresh, null, Progress.Mode.OFF, new PrintWriter(new StringWriter())).run();
        DistributedRunTest.samePairs(fresh, dir, 2);
    }

    @Test
    void ranksWithDifferentConfigurationsAreRefused(@TempDir Path tmp) throws Exception {
        Path cfg = config(tmp), dir = tmp.resolve("run");
        int port = Launcher.freePort();
        Process r0 = ranks.start(tmp.resolve("rank-0.log"), env(0, port), List.of(), "train", "--config", cfg.toString(), "--out", dir.toString(),
                "--progress", "OFF", "--dist-timeout", "" + TIMEOUT_S);
        Process r1 = ranks.start(tmp.resolve("rank-1.log"), env(1, port), List.of(), "train", "--config", cfg.toString(), "--out", dir.toString(),
                "--progress", "OFF", "--dist-timeout", "" + TIMEOUT_S, "--seed", "8");
        assertEquals(2, ranks.await(r0, 120), ranks.logs());
        assertEquals(2, ranks.await(r1, 120), ranks.logs());
        for (String f : List.of("rank-0.log", "rank-1.log"))
            assertTrue(Files.readString(tmp.resolve(f)).contains("rank(s) [1] differs from rank 0's"), ranks.logs());
        assertFalse(Files.exists(dir.resolve("config.json")), "a refused run writes nothing");
    }

    static java.util.Map<String, String> env(int rank, int port) {
        return java.util.Map.of("RANK", "" + rank, "LOCAL_RANK", "" + rank, "WORLD_SIZE", "2", "LOCAL_WORLD_SIZE", "2",
                "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "" + port);
    }

    /** The launcher's child with RANK=r in its environment (read from /proc). */
    static Optional<ProcessHandle> rank(Process launcher, int r) {
        return launcher.children().filter(h -> {
            try {
                String env = new String(Files.readAllBytes(Path.of("/proc", "" + h.pid(), "environ")), StandardCharsets.UTF_8);
                return ("\0" + env).contains("\0RANK=" + r + "\0");
            } catch (Exception e) {
                return false;
            }
        }).findFirst();
    }
}
