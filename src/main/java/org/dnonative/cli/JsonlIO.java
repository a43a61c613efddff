package org.dnonative.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
        List<Line> out = new ArrayList<>();
        BufferedReader r;
        try {
            r = in == null ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                    : Files.newBufferedReader(in, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InputException(name + ": no such file");
        }
        try (r) {
            String s;
            int n = 0;
            while ((s = r.readLine()) != null) {
                n++;
                if (s.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(s);
                } catch (JsonProcessingException e) {
                    throw new InputException(name + ":" + n + ": not valid JSON: " + e.getOriginalMessage());
                }
                if (node == null || !node.isObject()) throw new InputException(name + ":" + n + ": expected a JSON object");
                out.add(new Line(n, (ObjectNode) node));
            }
        }
        return out;
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
                tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
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

        @Override
        public void close() throws IOException {
            w.close();
            if (tmp != null) Files.deleteIfExists(tmp);
        }

        private static OutputStream nonClosing(OutputStream o) {
            return new java.io.FilterOutputStream(o) {
                @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
                @Override public void close() throws IOException { flush(); }
            };
        }
    }
}
