package org.dnonative.dno;

import com.fasterxml.jackson.databind.JsonNode;
import org.dnonative.io.JsonLines;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSONL prompt file: one object per line with {@code prompt} (text, required) and optionally
 * {@code gold} (the teacher's response). Blank lines are skipped; anything else that is wrong
 * (invalid UTF-8 or JSON included) is reported as {@code file:line: ...}.
 */
public final class PromptFile {
    private PromptFile() {}

    public static List<PromptRecord> read(Path file) {
        List<JsonLines.Line> lines;
        try (InputStream in = Files.newInputStream(file)) {
            lines = JsonLines.read(in, file.toString(), ConfigException::new);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such prompt file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        List<PromptRecord> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (JsonLines.Line line : lines) {
            int n = line.number();
            if (line.text().isBlank()) continue;
            JsonNode node = JsonLines.parseObject(line.text(), file + ":" + n, ConfigException::new);
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
