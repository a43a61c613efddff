package org.dnonative.dist;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exchanges of {@link Cluster} between two {@link ClusterProbe} processes on 127.0.0.1. */
class ClusterTest {
    final List<Process> procs = new ArrayList<>();

    @AfterEach
    void stop() {
        procs.forEach(Process::destroyForcibly);
    }

    private List<String> run(Path tmp, String mode) throws Exception {
        int port = Launcher.freePort();
        for (int r = 0; r < 2; r++) {
            ProcessBuilder pb = new ProcessBuilder(Ranks.java(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    "org.dnonative.dist.ClusterProbe", mode, "20").redirectErrorStream(true).redirectOutput(tmp.resolve(mode + r + ".log").toFile());
            pb.environment().putAll(java.util.Map.of("RANK", "" + r, "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "" + port,
                    "OMP_NUM_THREADS", "1"));
            procs.add(pb.start());
        }
        List<String> logs = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            assertTrue(procs.get(procs.size() - 2 + r).waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "probe " + r + " hangs");
            logs.add(Files.readString(tmp.resolve(mode + r + ".log")));
        }
        return logs;
    }

    @Test
    void everyRankGetsTheSameGatherSumsAndGradients(@TempDir Path tmp) throws Exception {
        List<String> logs = run(tmp, "ok");
        for (String log : logs) {
            assertTrue(log.contains("gather=[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"), log);
            assertTrue(log.contains("sum=[3.0, 1.0]"), log);
            assertTrue(log.contains("agree=true"), "rank 0's value, also on rank 1: " + log);
            assertTrue(log.contains("grad=[1.5, 2.0, 4.0] half=[5.0, 6.0] unused=undefined"),
                    "summed gradients; a rank without one adds zeros; a parameter with none on any rank keeps none: " + log);
            assertTrue(log.contains("verified"), log);
        }
        assertEquals(0, procs.get(0).exitValue());
        assertEquals(0, procs.get(1).exitValue());
    }

    @Test
    void aRankFailingInAGatherFailsEveryRankNamingIt(@TempDir Path tmp) throws Exception {
        List<String> logs = run(tmp, "fail");
        assertTrue(logs.get(1).contains("error=probe failure on purpose"), "the failing rank has its own exception: " + logs.get(1));
        assertTrue(logs.get(0).contains("error=rank 1 failed in probe gather: probe failure on purpose"), "the others name it: " + logs.get(0));
        assertEquals(1, procs.get(0).exitValue());
        assertEquals(1, procs.get(1).exitValue());
    }
}
