package org.dnonative.oracle.judge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Judgments kept across runs, so that a resumed or repeated run never pays twice for the same one.
 *
 * <p>An append-only log, {@value #FILE_NAME}: one JSON object per line, each written and fsync'd
 * before the judgment is returned. A process killed mid-write leaves at most a torn last line, which
 * {@link #open} drops (the file is truncated back to the last complete line); so a crash loses only
 * the judgments in flight. The later of two entries with the same key wins. One writing process per
 * directory at a time is the intended use; concurrent appenders do not corrupt it (O_APPEND) but do
 * not see each other's new entries until reopened.
 *
 * <p>Several writers (the ranks of a distributed run) each append to a file of their own,
 * {@code judgments.WRITER.jsonl}, next to the main file, so no two processes ever write one file;
 * every cache opened on the directory loads all of them (the main file first, then the writers' in
 * name order), so a run resumed with any number of processes asks only for what none of them has.
 * {@link #mergeWriters} folds the writers' files into the main one, atomically, when none is open.
 */
public final class JudgmentCache implements AutoCloseable {

    public static final String FILE_NAME = "judgments.jsonl";
    private static final Logger LOG = LoggerFactory.getLogger(JudgmentCache.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, ObjectNode> entries = new ConcurrentHashMap<>();
    private final FileChannel log;

    private JudgmentCache(FileChannel log) {
        this.log = log;
    }

    /** A cache that lives only as long as this object. */
    public static JudgmentCache inMemory() {
        return new JudgmentCache(null);
    }

    /** Opens (creating if needed) the cache in {@code directory}, loading every complete entry. */
    public static JudgmentCache open(Path directory) {
        return open(directory, null);
    }

    /**
     * Opens the cache in {@code directory} for {@code writer} (null: the main file), loading the
     * entries of the main file and of every writer's file.
     */
    public static JudgmentCache open(Path directory, String writer) {
        if (directory == null) {
            throw new IllegalArgumentException("directory must not be null");
        }
        if (writer != null && !writer.matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("cache writer must be letters, digits, '-' or '_', got '" + writer + "'");
        }
        Path file = directory.resolve(writer == null ? FILE_NAME : "judgments." + writer + ".jsonl");
        try {
            Files.createDirectories(directory);
            Map<String, ObjectNode> loaded = new HashMap<>();
            for (Path other : files(directory)) {
                if (!other.equals(file)) loaded.putAll(load(other, false));
            }
            loaded.putAll(load(file, true));
            // O_APPEND: every line lands at the end of the file even if another judge (or process)
            // appends to the same cache, so lines never overwrite each other.
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            JudgmentCache cache = new JudgmentCache(channel);
            cache.entries.putAll(loaded);
            return cache;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the judgment cache " + file, e);
        }
    }

    /** The main file (when it exists), then the writers' files in name order. */
    private static java.util.List<Path> files(Path directory) throws IOException {
        java.util.List<Path> out = new java.util.ArrayList<>();
        Path main = directory.resolve(FILE_NAME);
        if (Files.exists(main)) out.add(main);
        try (java.util.stream.Stream<Path> s = Files.list(directory)) {
            s.filter(p -> { String n = p.getFileName().toString(); return n.startsWith("judgments.") && n.endsWith(".jsonl") && !n.equals(FILE_NAME); })
                    .sorted().forEach(out::add);
        }
        return out;
    }

    /**
     * Folds every writer's file into the main file (one atomic rewrite, later entries winning as on
     * load) and deletes them. Call it only when no cache on the directory is open (a distributed run:
     * rank 0, after every rank has closed its oracle); a no-op without writers' files.
     */
    public static void mergeWriters(Path directory) {
        if (directory == null || !Files.isDirectory(directory)) return;
        try {
            java.util.List<Path> all = files(directory);
            Path main = directory.resolve(FILE_NAME);
            java.util.List<Path> writers = all.stream().filter(p -> !p.equals(main)).toList();
            if (writers.isEmpty()) return;
            Map<String, ObjectNode> merged = new java.util.LinkedHashMap<>();
            for (Path f : all) merged.putAll(load(f, false));
            StringBuilder sb = new StringBuilder();
            for (ObjectNode e : merged.values()) sb.append(JSON.writeValueAsString(e)).append('\n');
            org.dnonative.io.AtomicFiles.writeString(main, sb.toString());
            for (Path w : writers) Files.delete(w);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot merge the judgment cache's files in " + directory, e);
        }
    }

    /** @param own whether this process writes the file: only then is a torn last line cut off (another writer may be mid-line) */
    private static Map<String, ObjectNode> load(Path file, boolean own) throws IOException {
        Map<String, ObjectNode> loaded = new HashMap<>();
        if (!Files.exists(file)) {
            return loaded;
        }
        byte[] bytes = Files.readAllBytes(file);
        int lineStart = 0;
        int skipped = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') {
                continue;
            }
            String line = new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8);
            lineStart = i + 1;
            if (line.isBlank()) {
                continue;
            }
            try {
                JsonNode node = JSON.readTree(line);
                if (node instanceof ObjectNode o && o.path("key").isTextual()) {
                    loaded.put(o.get("key").asText(), o);
                } else {
                    skipped++;
                }
            } catch (JsonProcessingException e) {
                skipped++;
            }
        }
        if (skipped > 0) {
            LOG.warn("{}: skipped {} unreadable line(s)", file, skipped);
        }
        if (lineStart < bytes.length && own) {
            // A torn last line from a killed process: cut it off so the next append starts cleanly.
            LOG.warn("{}: dropping a torn last line of {} bytes", file, bytes.length - lineStart);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(lineStart);
                channel.force(true);
            }
        }
        return loaded;
    }

    public Optional<ObjectNode> get(String key) {
        ObjectNode e = entries.get(key);
        return e == null ? Optional.empty() : Optional.of(e.deepCopy());
    }

    /** Stores {@code entry} under {@code key} (written into the entry as "key"), durably. */
    public void put(String key, ObjectNode entry) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("key must not be empty");
        }
        ObjectNode stored = entry.deepCopy();
        stored.put("key", key);
        if (log != null) {
            append(stored);
        }
        entries.put(key, stored);
    }

    private synchronized void append(ObjectNode entry) {
        try {
            ByteBuffer line = ByteBuffer.wrap((JSON.writeValueAsString(entry) + "\n").getBytes(StandardCharsets.UTF_8));
            while (line.hasRemaining()) {
                log.write(line);
            }
            log.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the judgment cache", e);
        }
    }

    public int size() {
        return entries.size();
    }

    @Override
    public synchronized void close() {
        if (log != null) {
            try {
                log.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
