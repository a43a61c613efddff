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
        if (directory == null) {
            throw new IllegalArgumentException("directory must not be null");
        }
        Path file = directory.resolve(FILE_NAME);
        try {
            Files.createDirectories(directory);
            Map<String, ObjectNode> loaded = load(file);
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

    private static Map<String, ObjectNode> load(Path file) throws IOException {
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
        if (lineStart < bytes.length) {
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
