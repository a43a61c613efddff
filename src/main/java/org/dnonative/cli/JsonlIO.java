package org.dnonative.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.dnonative.io.AtomicFiles;
import org.dnonative.io.JsonLines;
import java.util.ArrayList;
import java.util.List;

/** Reading JSONL input (a file or standard input) with line numbers, and writing JSONL output. */
final class JsonlIO {
    static final ObjectMapper JSON = new ObjectMapper();

    /** An input line: its 1-based number and JSON object. */
    record Line(int number, ObjectNode json) {}

    /** A user error in the input or options: printed as is, exit code 2. */
    static final class InputException extends RuntimeException {
        InputException(String message) { super(message); }
    }

    private JsonlIO() {}

    static List<Line> read(Path in) throws IOException {
        String name = in == null ? "<stdin>" : in.toString();
        List<JsonLines.Line> lines;
        try (InputStream s = in == null ? nonClosing(System.in) : Files.newInputStream(in)) {
            lines = JsonLines.read(s, name, InputException::new);
        } catch (NoSuchFileException e) {
            throw new InputException(name + ": no such file");
        }
        List<Line> out = new ArrayList<>();
        for (JsonLines.Line l : lines) {
            if (l.text().isBlank()) continue;
            out.add(new Line(l.number(), JsonLines.parseObject(l.text(), name + ":" + l.number(), InputException::new)));
        }
        return out;
    }

    private static InputStream nonClosing(InputStream in) {
        return new java.io.FilterInputStream(in) {
            @Override public void close() { }
        };
    }

    static int[] ids(JsonNode array, String field, String where) {
        if (!array.isArray()) throw new InputException(where + ": '" + field + "' must be a list of token ids");
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = array.get(i);
            if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > Integer.MAX_VALUE)
                throw new InputException(where + ": '" + field + "'[" + i + "] is not a token id: " + v);
            out[i] = v.asInt();
        }
        return out;
    }

    static void checkIds(int[] ids, int vocab, String field, String where) {
        for (int i = 0; i < ids.length; i++)
            if (ids[i] >= vocab) throw new InputException(where + ": '" + field + "'[" + i + "] = " + ids[i] + " is outside the vocabulary (" + vocab + ")");
    }

    /** Writes lines to {@code out} atomically (temp file then rename), or to standard output when null. */
    static final class Output implements AutoCloseable {
        private final Path target, tmp;
        private final Writer w;

        Output(Path target) throws IOException {
            this.target = target;
            if (target == null) {
                tmp = null;
                w = new OutputStreamWriter(nonClosing(System.out), StandardCharsets.UTF_8);
            } else {
                Path dir = target.toAbsolutePath().getParent();
                Files.createDirectories(dir);
                tmp = AtomicFiles.siblingFile(target, ".tmp");
                w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
            }
        }

        void write(ObjectNode line) throws IOException {
            w.write(JSON.writeValueAsString(line));
            w.write('\n');
        }

        /** Publishes the output (renames the temp file over the target). */
        void commit() throws IOException {
            w.flush();
            if (tmp != null) {
                w.close();
                Files.move(tmp, target.toAbsolutePath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        }

        /** Deletes the temporary file unless committed, even when flushing what was buffered fails. */
        @Override
        public void close() throws IOException {
            try {
                w.close();
            } finally {
                if (tmp != null) Files.deleteIfExists(tmp);
            }
        }

        private static OutputStream nonClosing(OutputStream o) {
            return new java.io.FilterOutputStream(o) {
                @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
                @Override public void close() throws IOException { flush(); }
            };
        }
    }
}
