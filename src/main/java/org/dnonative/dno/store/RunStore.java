package org.dnonative.dno.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.EnumFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dno.ConfigException;
import org.dnonative.dno.RunDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The typed contents of a run directory: what each stage reads and writes, as records, on top of
 * {@link RunDirectory}'s layout and atomic files. A stage is done when its marker exists; the marker
 * is written after all of the stage's files and records how long the stage took.
 */
public final class RunStore {
    /** snake_case keys, lower-case enums, compact lines. */
    public static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(EnumFeature.WRITE_ENUMS_TO_LOWERCASE, true)
            .enable(com.fasterxml.jackson.databind.MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final RunDirectory dir;
    private final boolean writes;

    public RunStore(RunDirectory dir) {
        this(dir, true);
    }

    public RunStore(Path root) {
        this(new RunDirectory(root));
    }

    /**
     * @param writes false for a replica: ranks other than 0 of a distributed run read the run
     *               directory that rank 0 writes, and their write methods do nothing
     */
    public RunStore(RunDirectory dir, boolean writes) {
        this.dir = dir;
        this.writes = writes;
    }

    /** Whether this store writes (rank 0, or a single process) or only reads (the other ranks). */
    public boolean writes() { return writes; }

    public RunDirectory directory() { return dir; }
    public Path root() { return dir.root(); }

    // ---------------------------------------------------------------- stage markers

    public boolean isDone(int t, String stage) {
        return dir.isDone(t, stage);
    }

    public void markDone(int t, String stage, double seconds) {
        if (!writes) return;
        ObjectNode n = JSON.createObjectNode().put("stage", stage).put("seconds", seconds);
        RunDirectory.writeString(dir.marker(t, stage), n + "\n");
    }

    /** How long a done stage took (empty for markers without the time, or a stage not done). */
    public OptionalDouble seconds(int t, String stage) {
        Path m = dir.marker(t, stage);
        if (!Files.exists(m)) return OptionalDouble.empty();
        try {
            JsonNode n = JSON.readTree(Files.readString(m));
            return n != null && n.has("seconds") ? OptionalDouble.of(n.get("seconds").asDouble()) : OptionalDouble.empty();
        } catch (IOException e) {
            return OptionalDouble.empty();
        }
    }

    // ---------------------------------------------------------------- the split

    public void writeSplit(List<PromptEntry> eval, List<List<PromptEntry>> parts) {
        if (!writes) return;
        writeJsonl(dir.evalPrompts(), eval);
        for (int t = 1; t <= parts.size(); t++) writeJsonl(dir.file(t, "prompts.jsonl"), parts.get(t - 1));
        writeJson(dir.file(0, "split.json"), new SplitInfo(parts.size(), parts.isEmpty() ? 0 : parts.get(0).size()));
    }

    public SplitInfo split() {
        return readJson(dir.file(0, "split.json"), SplitInfo.class);
    }

    public List<PromptEntry> evalPrompts() {
        return readJsonl(dir.evalPrompts(), PromptEntry.class);
    }

    /**
     * The prompts of iteration t: its own part of the split, or, for an iteration added on
     * {@code --resume --iterations} beyond the parts, a copy of part (t-1) mod parts + 1.
     */
    public List<PromptEntry> prompts(int t) {
        Path own = dir.file(t, "prompts.jsonl");
        if (!Files.exists(own)) {
            int parts = split().parts();
            if (parts < 1) throw new ConfigException(dir.root() + ": no prompt parts to run iteration " + t + " on");
            List<PromptEntry> copy = readJsonl(dir.file((t - 1) % parts + 1, "prompts.jsonl"), PromptEntry.class);
            if (!writes) return copy;
            writeJsonl(own, copy);
        }
        return readJsonl(own, PromptEntry.class);
    }

    // ---------------------------------------------------------------- per-iteration data

    public List<PromptSamples> samples(int t) { return readJsonl(dir.file(t, "samples.jsonl"), PromptSamples.class); }
    public void writeSamples(int t, List<PromptSamples> s) { if (writes) writeJsonl(dir.file(t, "samples.jsonl"), s); }

    public List<Judgment> judgments(int t) { return readJsonl(dir.file(t, "judgments.jsonl"), Judgment.class); }
    public void writeJudgments(int t, List<Judgment> j) { if (writes) writeJsonl(dir.file(t, "judgments.jsonl"), j); }

    /** The pairs iteration t made (without replay). */
    public List<Pair> pairs(int t) { return readJsonl(dir.file(t, "pairs.jsonl"), Pair.class); }
    /** What iteration t trains on: its pairs and the replayed ones. */
    public List<Pair> trainPairs(int t) { return readJsonl(dir.file(t, "train_pairs.jsonl"), Pair.class); }
    public void writePairs(int t, List<Pair> fresh, List<Pair> train) {
        if (!writes) return;
        writeJsonl(dir.file(t, "pairs.jsonl"), fresh);
        writeJsonl(dir.file(t, "train_pairs.jsonl"), train);
    }

    public List<ReferenceLogps> referenceLogps(int t) { return readJsonl(dir.file(t, "ref_logps.jsonl"), ReferenceLogps.class); }
    public void writeReferenceLogps(int t, List<ReferenceLogps> r) { if (writes) writeJsonl(dir.file(t, "ref_logps.jsonl"), r); }

    /** Evaluation samples of pi_{t+1} (t = 0: of the starting policy pi_1). */
    public List<EvalSamples> evalSamples(int t) { return readJsonl(dir.file(t, "eval_samples.jsonl"), EvalSamples.class); }
    public void writeEvalSamples(int t, List<EvalSamples> s) { if (writes) writeJsonl(dir.file(t, "eval_samples.jsonl"), s); }

    public Path checkpoint(int t) { return dir.checkpoint(t); }

    /** A stage's summary numbers (e.g. train.json), merged into the iteration's metrics. */
    public void writeSummary(int t, String name, Object summary) { if (writes) writeJson(dir.file(t, name + ".json"), summary); }

    public ObjectNode summary(int t, String name) {
        Path f = dir.file(t, name + ".json");
        return Files.exists(f) ? (ObjectNode) readTree(f) : null;
    }

    public void writeMetrics(int t, ObjectNode metrics) { if (writes) writeJson(dir.file(t, "metrics.json"), metrics); }

    /** metrics.jsonl from every finished iteration's metrics.json up to {@code upTo}, rewritten atomically. */
    public List<ObjectNode> collectMetrics(int upTo) {
        List<ObjectNode> lines = new ArrayList<>();
        for (int t = 0; t <= upTo; t++) {
            Path f = dir.file(t, "metrics.json");
            if (Files.exists(f)) lines.add((ObjectNode) readTree(f));
        }
        if (writes) writeJsonl(dir.metrics(), lines);
        return lines;
    }

    // ---------------------------------------------------------------- JSON files

    public static void writeJson(Path file, Object value) {
        try {
            RunDirectory.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(finite(value)) + "\n");
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalStateException(file + ": " + e.getMessage(), e);
        }
    }

    public static void writeJsonl(Path file, List<?> lines) {
        StringBuilder sb = new StringBuilder();
        try {
            for (Object o : lines) sb.append(JSON.writeValueAsString(finite(o))).append('\n');
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalStateException(file + ": " + e.getMessage(), e);
        }
        RunDirectory.writeString(file, sb.toString());
    }

    /**
     * The value as a JSON tree with every NaN or infinite number replaced by null: a number that could
     * not be computed (a win-rate when the judge answered nothing usable) is missing, and JSON has
     * no NaN (Jackson would write the string "NaN", which readers take for text, or a bare NaN
     * token, which they cannot parse at all).
     */
    static JsonNode finite(Object value) {
        JsonNode tree = value instanceof JsonNode n ? n.deepCopy() : JSON.valueToTree(value);
        return tree == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : nullNonFinite(tree);
    }

    private static JsonNode nullNonFinite(JsonNode node) {
        if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue()))
            return com.fasterxml.jackson.databind.node.NullNode.getInstance();
        if (node instanceof ObjectNode o) {
            o.fields().forEachRemaining(e -> e.setValue(nullNonFinite(e.getValue())));
        } else if (node instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
            for (int i = 0; i < a.size(); i++) a.set(i, nullNonFinite(a.get(i)));
        }
        return node;
    }

    public static <T> T readJson(Path file, Class<T> type) {
        try {
            return JSON.readValue(Files.readString(file), type);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    public static JsonNode readTree(Path file) {
        try {
            return JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    public static <T> List<T> readJsonl(Path file, Class<T> type) {
        List<T> out = new ArrayList<>();
        try {
            int line = 0;
            for (String s : Files.readAllLines(file)) {
                line++;
                if (s.isBlank()) continue;
                try {
                    out.add(JSON.readValue(s, type));
                } catch (JsonProcessingException e) {
                    throw new UncheckedIOException(file + ":" + line + ": " + e.getOriginalMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Merges the fields of {@code from} into {@code into} (nested objects replace). */
    public static void merge(ObjectNode into, ObjectNode from) {
        if (from != null) from.fields().forEachRemaining(e -> into.set(e.getKey(), e.getValue()));
    }
}
