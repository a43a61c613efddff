package org.dnonative.dno;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSONL prompt file: one object per line with {@code prompt} (text, required) and optionally
 * {@code gold} (the teacher's response). Blank lines are skipped; anything else that is wrong is
 * reported as {@code file:line: ...}.
 */
public final class PromptFile {
    private PromptFile() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    public static List<PromptRecord> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such prompt file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        List<PromptRecord> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int n = i + 1;
            if (line.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new ConfigException(file + ":" + n + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) throw new ConfigException(file + ":" + n + ": expected a JSON object with a 'prompt' field");
            JsonNode p = node.get("prompt");
            if (p == null || p.isNull()) throw new ConfigException(file + ":" + n + ": field 'prompt' is missing");
            if (!p.isTextual()) throw new ConfigException(file + ":" + n + ": field 'prompt' must be a string, was " + p.getNodeType().toString().toLowerCase());
            if (p.asText().isBlank()) throw new ConfigException(file + ":" + n + ": field 'prompt' is empty");
            JsonNode g = node.get("gold");
            if (g != null && !g.isNull() && !g.isTextual())
                throw new ConfigException(file + ":" + n + ": field 'gold' must be a string, was " + g.getNodeType().toString().toLowerCase());
            Integer first = seen.putIfAbsent(p.asText(), n);
            if (first != null) throw new ConfigException(file + ":" + n + ": duplicate prompt (first on line " + first + ")");
            out.add(new PromptRecord(p.asText(), g == null || g.isNull() ? null : g.asText()));
        }
        if (out.isEmpty()) throw new ConfigException(file + ": no prompts");
        return out;
    }
}
