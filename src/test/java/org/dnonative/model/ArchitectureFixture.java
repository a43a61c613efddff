package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One model of the architecture fixtures (src/test/fixtures/{qwen3-tiny,gemma3-tiny,
 * mistral-sliding-tiny}, written by src/test/fixtures-gen/architectures.py from what transformers
 * computed): its directory, reference.json entry and reference tensors, named "set/model".
 */
record ArchitectureFixture(String set, String name) {
    static final Path ROOT = Path.of(System.getProperty("dno.fixtures", "test/fixtures"));

    static ArchitectureFixture of(String id) {
        int slash = id.indexOf('/');
        return new ArchitectureFixture(id.substring(0, slash), id.substring(slash + 1));
    }

    Path dir() { return ROOT.resolve(set).resolve(name); }

    Path referenceTensors() { return ROOT.resolve(set).resolve("reference.safetensors"); }

    JsonNode reference() {
        try {
            return new ObjectMapper().readTree(Files.readString(ROOT.resolve(set).resolve("reference.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode cases() { return reference().get("models").get(name).get("cases"); }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    @Override
    public String toString() { return set + "/" + name; }
}
