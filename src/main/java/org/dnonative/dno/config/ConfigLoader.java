package org.dnonative.dno.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.EnumFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.dnonative.dno.ConfigException;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a {@link DnoConfig}: a YAML ({@code .yaml}/{@code .yml}) or JSON file laid over a base
 * configuration (fields the file does not name keep the base's values), then command-line overrides
 * by dotted path. Every problem is reported with the file, line and field: unknown fields, values of
 * the wrong type, and values the records' constructors reject.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    private static final ObjectMapper JSON = mapper(false);

    /**
     * Snake-case keys, lower-case enum values, unknown keys rejected, no silent coercion of floats
     * into ints, and a key written twice in one mapping refused (in YAML too, like JSON's strict
     * mode: last-wins would silently drop the first value and report the wrong line).
     */
    public static ObjectMapper mapper(boolean yaml) {
        JsonMapper.Builder b = yaml ? JsonMapper.builder(new YAMLFactory()) : JsonMapper.builder();
        return b.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
                .configure(EnumFeature.WRITE_ENUMS_TO_LOWERCASE, true)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .build();
    }

    /** The configuration as JSON, as saved in a run directory's config.json. */
    public static String toJson(DnoConfig config) {
        return JSON.valueToTree(config).toPrettyString() + "\n";
    }

    /** A configuration file read over {@code base}. */
    public static DnoConfig load(Path file, DnoConfig base) {
        return load(file, base, Map.of());
    }

    /** A configuration file read over {@code base}, then {@code overrides} (dotted snake_case path to value) applied. */
    public static DnoConfig load(Path file, DnoConfig base, Map<String, ?> overrides) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such configuration file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        String name = file.getFileName().toString().toLowerCase();
        return parse(text, file, name.endsWith(".yaml") || name.endsWith(".yml"), base, overrides);
    }

    static DnoConfig parse(String text, Path file, boolean yaml, DnoConfig base, Map<String, ?> overrides) {
        ObjectMapper m = mapper(yaml);
        Map<String, Integer> lines;
        JsonNode tree;
        try {
            lines = fieldLines(m, text);
            tree = m.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(syntaxError(file, yaml, e));
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage(), e);
        }
        ObjectNode merged = JSON.valueToTree(base);
        if (tree != null && !tree.isMissingNode() && !tree.isNull()) {
            if (!tree.isObject()) throw new ConfigException(file + ":1: the configuration must be a mapping of fields");
            merge(merged, (ObjectNode) tree);
        }
        setAll(merged, overrides);
        return bind(merged, file, lines);
    }

    /** {@code config} with the fields at the given paths replaced. */
    public static DnoConfig override(DnoConfig config, Map<String, ?> overrides) {
        ObjectNode tree = JSON.valueToTree(config);
        setAll(tree, overrides);
        return bind(tree, null, Map.of());
    }

    /** A saved config.json (every field present). */
    public static DnoConfig loadSaved(Path file) {
        return load(file, DnoConfig.defaults());
    }

    private static void setAll(ObjectNode tree, Map<String, ?> overrides) {
        overrides.forEach((path, value) -> set(tree, path, value));
    }

    private static void set(ObjectNode tree, String path, Object value) {
        String[] parts = path.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || !child.isObject()) throw new IllegalArgumentException("no configuration section '" + parts[i] + "' in " + path);
            node = (ObjectNode) child;
        }
        String leaf = parts[parts.length - 1];
        if (!node.has(leaf)) throw new IllegalArgumentException("no configuration field " + path);
        node.set(leaf, value instanceof Enum<?> e ? JSON.getNodeFactory().textNode(e.name().toLowerCase()) : JSON.valueToTree(value));
    }

    /** Objects merge field by field; anything else in {@code over} replaces what {@code into} has. */
    private static void merge(ObjectNode into, ObjectNode over) {
        for (Iterator<Map.Entry<String, JsonNode>> it = over.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode existing = into.get(e.getKey());
            if (existing != null && existing.isObject() && e.getValue().isObject()) merge((ObjectNode) existing, (ObjectNode) e.getValue());
            else into.set(e.getKey(), e.getValue());
        }
    }

    private static DnoConfig bind(ObjectNode tree, Path file, Map<String, Integer> lines) {
        try {
            return JSON.treeToValue(tree, DnoConfig.class);
        } catch (UnrecognizedPropertyException e) {
            String field = path(e);
            throw new ConfigException(where(file, lines, field) + "unknown field '" + field + "'"
                    + " (known: " + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")");
        } catch (ValueInstantiationException e) {
            InvalidConfigException invalid = invalidCause(e);
            if (invalid == null) throw new ConfigException(where(file, lines, path(e)) + firstLine(e.getOriginalMessage()), e);
            String prefix = path(e);
            StringBuilder sb = new StringBuilder();
            for (FieldProblem p : invalid.problems()) {
                FieldProblem full = p.prefixed(prefix);
                if (sb.length() > 0) sb.append('\n');
                sb.append(where(file, lines, full.field())).append("field '").append(full.field()).append("' ").append(full.message());
                if (file != null && !lines.containsKey(full.field())) sb.append(" (from the command line or a default)");
            }
            throw new ConfigException(sb.toString());
        } catch (JsonMappingException e) {
            String field = path(e);
            throw new ConfigException(where(file, lines, field) + "field '" + field + "': " + firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new ConfigException((file == null ? "" : file + ": ") + e.getOriginalMessage());
        }
    }

    private static InvalidConfigException invalidCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof InvalidConfigException i) return i;
        return null;
    }

    /** "FILE:LINE: " where the field was written, "FILE: " for a field the file does not name, "" without a file. */
    private static String where(Path file, Map<String, Integer> lines, String field) {
        if (file == null) return "";
        Integer line = lines.get(field);
        return line == null ? file + ": " : file + ":" + line + ": ";
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * One line, "FILE:LINE:COLUMN: not valid YAML: PROBLEM" ("FILE:LINE: not valid JSON: PROBLEM
     * (column C)" for JSON): SnakeYAML's own message spans several
     * lines (context, a snippet with a caret), so its problem and mark are taken apart instead.
     */
    static String syntaxError(Path file, boolean yaml, JsonProcessingException e) {
        String problem = e.getOriginalMessage();
        JsonLocation loc = e.getLocation();
        int line = loc == null ? -1 : loc.getLineNr(), column = loc == null ? -1 : loc.getColumnNr();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException m) {
                if (m.getProblem() != null) problem = m.getProblem();
                Mark mark = m.getProblemMark() != null ? m.getProblemMark() : m.getContextMark();
                if (mark != null) {
                    line = mark.getLine() + 1;
                    column = mark.getColumn() + 1;
                }
                break;
            }
        }
        String text = firstLine(problem == null ? "" : problem.strip());
        if (!yaml) return file + (line < 1 ? "" : ":" + line) + ": not valid JSON: " + text + (column < 1 ? "" : " (column " + column + ")");
        return file + (line < 1 ? "" : ":" + line + (column < 1 ? "" : ":" + column)) + ": not valid YAML: " + text;
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

    /** Dotted paths of every leaf field of a configuration, in order (the keys flags and overrides may name). */
    public static List<String> fieldPaths(DnoConfig config) {
        List<String> out = new java.util.ArrayList<>();
        collect(JSON.valueToTree(config), "", out);
        return out;
    }

    private static void collect(JsonNode node, String prefix, List<String> out) {
        node.fields().forEachRemaining(e -> {
            String p = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue().isObject()) collect(e.getValue(), p, out);
            else out.add(p);
        });
    }
}
