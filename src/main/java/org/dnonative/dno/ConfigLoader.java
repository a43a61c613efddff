package org.dnonative.dno;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a {@link DnoConfig} from YAML ({@code .yaml}/{@code .yml}) or JSON, and reports every
 * problem with the file, line and field: unknown fields, values of the wrong type, and values that
 * {@link DnoConfig#validate()} rejects.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** Snake-case keys, unknown keys rejected, no silent coercion of floats into ints. */
    public static ObjectMapper mapper(boolean yaml) {
        ObjectMapper m = yaml ? new ObjectMapper(new YAMLFactory()) : new ObjectMapper();
        m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        m.enable(SerializationFeature.INDENT_OUTPUT);
        return m;
    }

    /** A config file read, with where each field was written (dotted snake_case path to line). */
    public record Loaded(DnoConfig config, Map<String, Integer> lines, Path file) {}

    public static Loaded load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such configuration file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        String name = file.getFileName().toString().toLowerCase();
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        return parse(text, file, yaml);
    }

    public static Loaded parse(String text, Path file, boolean yaml) {
        ObjectMapper m = mapper(yaml);
        Map<String, Integer> lines;
        JsonNode tree;
        try {
            lines = fieldLines(m, text);
            tree = m.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + lineOf(e.getLocation()) + ": not valid " + (yaml ? "YAML" : "JSON") + ": "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage(), e);
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) return new Loaded(new DnoConfig(), lines, file);
        if (!tree.isObject()) throw new ConfigException(file + ":1: the configuration must be a mapping of fields");
        DnoConfig config;
        try {
            config = m.readValue(text, DnoConfig.class);
        } catch (UnrecognizedPropertyException e) {
            String field = path(e);
            throw new ConfigException(file + lineOf(e.getLocation()) + ": unknown field '" + field + "'"
                    + " (known: " + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")");
        } catch (JsonMappingException e) {
            String field = path(e);
            Integer line = lines.get(field);
            throw new ConfigException(file + (line != null ? ":" + line : lineOf(e.getLocation())) + ": field '" + field
                    + "': " + firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + lineOf(e.getLocation()) + ": " + e.getOriginalMessage());
        }
        return new Loaded(config, lines, file);
    }

    /** Throws a {@link ConfigException} naming every problem, with file and line where the field was written. */
    public static void validate(DnoConfig config, Path file, Map<String, Integer> lines) {
        List<DnoConfig.FieldProblem> problems = config.validate();
        if (problems.isEmpty()) return;
        StringBuilder sb = new StringBuilder();
        for (DnoConfig.FieldProblem p : problems) {
            if (sb.length() > 0) sb.append('\n');
            Integer line = lines == null ? null : lines.get(p.field());
            if (file != null && line != null) sb.append(file).append(':').append(line).append(": ");
            sb.append("field '").append(p.field()).append("' ").append(p.message());
            if (file != null && line == null) sb.append(" (from the command line or a default)");
        }
        throw new ConfigException(sb.toString());
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String lineOf(JsonLocation loc) {
        return loc == null || loc.getLineNr() < 1 ? "" : ":" + loc.getLineNr();
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) sb.append('.');
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** The line on which each field (dotted path) is written. */
    static Map<String, Integer> fieldLines(ObjectMapper m, String text) throws IOException {
        Map<String, Integer> out = new HashMap<>();
        Deque<String> objects = new ArrayDeque<>();
        String pending = null;
        try (JsonParser p = m.getFactory().createParser(text)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                switch (t) {
                    case FIELD_NAME -> {
                        String prefix = objects.isEmpty() ? "" : objects.peek();
                        pending = prefix.isEmpty() ? p.currentName() : prefix + "." + p.currentName();
                        out.putIfAbsent(pending, p.currentTokenLocation().getLineNr());
                    }
                    case START_OBJECT -> objects.push(pending == null ? "" : pending);
                    case END_OBJECT -> objects.pop();
                    case START_ARRAY -> objects.push(pending == null ? "" : pending + "[]");
                    case END_ARRAY -> objects.pop();
                    default -> { }
                }
            }
        }
        return out;
    }
}
