package org.dnonative.oracle.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/** kill -9 of a process writing the cache loses nothing that was written, and the cache stays usable. */
class JudgmentCacheKillTest {

    @TempDir
    Path dir;

    @Test
    void aKilledWriterLeavesALoadableCache() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process writer = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CacheWriterProcess.class.getName(), dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("writer.out").toFile()).start();
        Path file = dir.resolve(JudgmentCache.FILE_NAME);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long linesBeforeKill = 0;
        try {
            while (System.nanoTime() < deadline && writer.isAlive()) {
                linesBeforeKill = Files.exists(file) ? completeLines(file) : 0;
                if (linesBeforeKill >= 100) {
                    break;
                }
                Thread.sleep(20);
            }
        } finally {
            writer.destroyForcibly(); // SIGKILL: no shutdown hooks, no flushing
            writer.waitFor(10, TimeUnit.SECONDS);
        }
        assertTrue(linesBeforeKill >= 100, "the writer wrote only " + linesBeforeKill + " lines: "
                + (Files.exists(dir.resolve("writer.out")) ? Files.readString(dir.resolve("writer.out")) : ""));

        int loaded;
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            loaded = cache.size();
            assertTrue(loaded >= linesBeforeKill, loaded + " loaded, " + linesBeforeKill + " seen before the kill");
            for (int i = 0; i < loaded; i++) {
                assertEquals(i, cache.get("key-" + i).orElseThrow().path("i").asLong());
            }
            cache.put("after-the-crash", new ObjectMapper().createObjectNode().put("status", "OK"));
        }
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            assertEquals(loaded + 1, cache.size());
        }
    }

    private static long completeLines(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long n = 0;
        for (byte b : bytes) {
            if (b == '\n') {
                n++;
            }
        }
        return n;
    }
}
