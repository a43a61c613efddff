package org.dnonative.oracle.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

class JudgmentCacheTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static ObjectNode entry(String status) {
        return JSON.createObjectNode().put("kind", "listwise").put("status", status);
    }

    @Test
    void entriesSurviveReopening() {
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            cache.put("k1", entry("OK"));
            cache.put("k2", entry("UNUSABLE"));
            cache.put("k1", entry("OK").put("scores", 3));
        }
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            assertEquals(2, cache.size());
            assertEquals(3, cache.get("k1").orElseThrow().path("scores").asInt(), "the later entry wins");
            assertEquals("UNUSABLE", cache.get("k2").orElseThrow().path("status").asText());
            assertTrue(cache.get("k3").isEmpty());
        }
    }

    @Test
    void aTornLastLineFromAKilledWriterIsDroppedAndAppendsContinueCleanly() throws IOException {
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            cache.put("k1", entry("OK"));
            cache.put("k2", entry("OK"));
        }
        Path file = dir.resolve(JudgmentCache.FILE_NAME);
        Files.writeString(file, "{\"key\":\"k3\",\"kind\":\"listw", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            assertEquals(2, cache.size());
            assertTrue(cache.get("k3").isEmpty());
            cache.put("k4", entry("OK"));
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(3, lines.size(), lines.toString());
        for (String line : lines) {
            assertTrue(JSON.readTree(line).has("key"), line);
        }
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            assertEquals(3, cache.size());
            assertFalse(cache.get("k4").isEmpty());
        }
    }

    @Test
    void aGarbledLineInTheMiddleIsSkipped() throws IOException {
        Path file = dir.resolve(JudgmentCache.FILE_NAME);
        Files.writeString(file, "{\"key\":\"a\",\"status\":\"OK\"}\nnot json\n{\"no_key\":1}\n{\"key\":\"b\",\"status\":\"OK\"}\n");
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            assertEquals(2, cache.size());
        }
    }

    @Test
    void twoWritersOnOneDirectoryNeverOverwriteEachOther() {
        try (JudgmentCache first = JudgmentCache.open(dir); JudgmentCache second = JudgmentCache.open(dir)) {
            for (int i = 0; i < 20; i++) {
                first.put("first-" + i, entry("OK"));
                second.put("second-" + i, entry("OK"));
            }
        }
        try (JudgmentCache cache = JudgmentCache.open(dir)) {
            assertEquals(40, cache.size());
        }
    }

    @Test
    void returnedEntriesAreCopies() {
        try (JudgmentCache cache = JudgmentCache.inMemory()) {
            cache.put("k", entry("OK"));
            cache.get("k").orElseThrow().put("status", "CHANGED");
            assertEquals("OK", cache.get("k").orElseThrow().path("status").asText());
        }
    }
}
