package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The hf-tiny ground truth (src/test/fixtures/hf-tiny, copied from what transformers computed; its README says how): paths and reference.json. */
public final class Fixture {
    public static final Path ROOT = Path.of(System.getProperty("dno.fixtures", "test/fixtures"), "hf-tiny");
    public static final Path MODEL = ROOT.resolve("llama-tiny");
    public static final Path TOKENIZER = ROOT.resolve("tokenizer");
    public static final Path REFERENCE_TENSORS = ROOT.resolve("reference.safetensors");
    private static JsonNode reference;

    private Fixture() {}

    public static synchronized JsonNode reference() {
        if (reference == null) {
            try {
                reference = new ObjectMapper().readTree(Files.readString(ROOT.resolve("reference.json")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return reference;
    }

    public static JsonNode cases() { return reference().get("models").get("llama-tiny").get("cases"); }

    public static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asLong();
        return out;
    }
}
