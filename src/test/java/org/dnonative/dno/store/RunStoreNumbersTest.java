package org.dnonative.dno.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A number that could not be computed is written as JSON null, in every kind of value a stage writes. */
class RunStoreNumbersTest {
    record Row(String id, double value, float small, double[][] matrix) {}

    @Test
    void nanAndInfinitiesAreNullAndFiniteNumbersAreUnchanged(@TempDir Path dir) throws Exception {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("winrate_vs_prev", Double.NaN);
        summary.put("winrate_vs_start", 0.625);
        summary.put("ci95", Double.POSITIVE_INFINITY);
        summary.put("count", 3);
        Path json = dir.resolve("eval.json");
        RunStore.writeJson(json, summary);
        JsonNode back = RunStore.readTree(json);
        assertTrue(back.get("winrate_vs_prev").isNull(), back.toString());
        assertTrue(back.get("ci95").isNull(), back.toString());
        assertEquals(0.625, back.get("winrate_vs_start").asDouble());
        assertEquals(3, back.get("count").asInt());
        assertFalse(Files.readString(json).contains("NaN"));

        ObjectNode tree = RunStore.JSON.createObjectNode().put("loss", Double.NEGATIVE_INFINITY).put("margin", 0.1);
        RunStore.writeJsonl(dir.resolve("metrics.jsonl"), List.of(tree, new Row("a", Double.NaN, Float.NaN,
                new double[][]{{0.5, Double.NaN}, {0.25, 1}})));
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals("{\"loss\":null,\"margin\":0.1}", lines.get(0));
        assertEquals("{\"id\":\"a\",\"value\":null,\"small\":null,\"matrix\":[[0.5,null],[0.25,1.0]]}", lines.get(1));
        assertEquals(Double.NEGATIVE_INFINITY, tree.get("loss").asDouble(), "the caller's tree is not changed");
    }
}
