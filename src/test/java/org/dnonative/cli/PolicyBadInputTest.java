package org.dnonative.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dnonative.model.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code generate} and {@code logprobs} through the real command line on input that used to crash
 * them: empty responses, lengths beyond the model's positions, sizes that do not fit memory, invalid
 * UTF-8 and lone surrogates. Each is exit code 2 with one line naming the file and line and nothing
 * written, or (an empty response) a clean result.
 */
class PolicyBadInputTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    private LossCommandTest.Run cli(String... args) {
        return LossCommandTest.run(args);
    }

    private void refused(LossCommandTest.Run r, Path out, String... fragments) throws Exception {
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("error: "), err);
        for (String f : fragments) assertTrue(err.contains(f), "'" + f + "' in: " + err);
        assertFalse(Files.exists(out), "nothing written: " + err);
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left: " + err);
        }
    }

    @Test
    void anEmptyResponseHasLogprobZeroOverZeroTokens() throws Exception {
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        Files.writeString(in, "{\"prompt\":\"Sort 3 1 2.\",\"response\":\"\"}\n{\"prompt_ids\":[1,2,3],\"response_ids\":[]}\n"
                + "{\"prompt\":\"Sort 3 1 2.\",\"response\":\"1 2 3\"}\n");
        LossCommandTest.Run r = cli("logprobs", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size());
        for (int i = 0; i < 2; i++) {
            JsonNode j = JSON.readTree(lines.get(i));
            assertEquals(0.0, j.get("logprob").asDouble(), lines.get(i));
            assertEquals(0, j.get("tokens").asInt(), lines.get(i));
        }
        assertTrue(JSON.readTree(lines.get(2)).get("logprob").asDouble() < 0, "a non-empty response in the same run is scored");
        // every response empty: no token goes through lm_head at all
        Files.writeString(in, "{\"prompt_ids\":[1,2,3],\"response_ids\":[]}\n");
        r = cli("logprobs", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(0.0, JSON.readTree(Files.readAllLines(out).get(0)).get("logprob").asDouble());
    }

    @Test
    void lengthsBeyondTheModelsPositionsAreRefusedBeforeAllocating() throws Exception {
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        Files.writeString(in, "{\"prompt_ids\":[1,2,3]}\n");
        refused(cli("generate", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString(),
                "--max-new-tokens", "2000000000"), out, in + ":1", "max_position_embeddings (256)", "2000000003");
        // a 128 KB prompt: far more tokens than positions
        String longPrompt = "word ".repeat(128 * 1024 / 5);
        Files.writeString(in, "{\"prompt\":\"x\",\"response\":\"y\"}\n{\"prompt\":\"" + longPrompt + "\",\"response\":\"y\"}\n");
        refused(cli("generate", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString(), "--raw"),
                out, in + ":2", "max_position_embeddings");
        refused(cli("logprobs", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString(), "--raw"),
                out, in + ":2", "max_position_embeddings");
        refused(cli("generate", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString(),
                "--samples", "2000000000"), out, "samples");
    }

    @Test
    void invalidUtf8AndLoneSurrogatesNameTheLine() throws Exception {
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        byte[] bad = "{\"prompt_ids\":[1,2]}\n{\"prompt\":\"caf\u00ff\"}\n".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(in, bad);
        refused(cli("generate", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString()),
                out, in + ":2", "not valid UTF-8");
        Files.writeString(in, "{\"prompt_ids\":[1,2]}\n{\"prompt\":\"a\\ud800b\",\"response\":\"c\"}\n");
        refused(cli("generate", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString(), "--raw"),
                out, in + ":2", "'prompt'", "surrogate");
        refused(cli("logprobs", "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString(), "--raw"),
                out, in + ":2", "'prompt'", "surrogate");
    }
}
