package org.dnonative.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dnonative.model.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PolicyCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String err) {}

    static Run run(Object command, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, err.toString());
    }

    @Test
    void generateGreedyMatchesTheFixture(@TempDir Path dir) throws Exception {
        JsonNode c = Fixture.cases().get(0);
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        Files.writeString(in, "{\"id\":\"a\",\"prompt_ids\":" + c.get("prompt_ids") + "}\n\n{\"prompt\":\"What is 17 plus 25?\"}\n");
        Run r = run(new GenerateCommand(), "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString(),
                "--temperature", "0", "--max-new-tokens", "16");
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(2, lines.size());
        JsonNode first = JSON.readTree(lines.get(0)), second = JSON.readTree(lines.get(1));
        assertEquals("a", first.get("id").asText());
        JsonNode ids = first.get("completions").get(0).get("ids");
        for (int i = 0; i < ids.size(); i++) assertEquals(c.get("greedy_16").get(i).asInt(), ids.get(i).asInt());
        // the templated text prompt is the same conversation as case 0
        assertEquals(ids, second.get("completions").get(0).get("ids"));
    }

    @Test
    void logprobsMatchTheFixture(@TempDir Path dir) throws Exception {
        JsonNode c = Fixture.cases().get(1);
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        Files.writeString(in, "{\"prompt_ids\":" + c.get("prompt_ids") + ",\"response_ids\":" + c.get("response_ids") + "}\n"
                + "{\"prompt\":\"Sort 3 1 2.\",\"response\":\"1 2 3\"}\n");
        Run r = run(new LogprobsCommand(), "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out);
        JsonNode first = JSON.readTree(lines.get(0));
        assertEquals(c.get("response_logprob_sum").asDouble(), first.get("logprob").asDouble(), 1e-3);
        assertEquals(c.get("response_ids").size(), first.get("tokens").asInt());
        JsonNode second = JSON.readTree(lines.get(1));
        assertTrue(second.get("logprob").asDouble() < 0);
        assertEquals(org.dnonative.model.tokenizer.Tokenizer.load(Fixture.MODEL.resolve("tokenizer.json")).encode("1 2 3").length, second.get("tokens").asInt());
    }

    @Test
    void userErrorsNameFileAndLineAndExitWith2(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("bad.jsonl"), out = dir.resolve("out.jsonl");
        Files.writeString(in, "{\"prompt_ids\":[1,2]}\n{\"prompt_ids\":[1,2\n");
        Run r = run(new GenerateCommand(), "--model", Fixture.MODEL.toString(), "--in", in.toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(in + ":2"), r.err());
        assertFalse(Files.exists(out), "nothing written");

        Files.writeString(in, "{\"prompt_ids\":[1,9999]}\n");
        r = run(new GenerateCommand(), "--model", Fixture.MODEL.toString(), "--in", in.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(in + ":1") && r.err().contains("outside the vocabulary"), r.err());

        Files.writeString(in, "{\"prompt_ids\":[1,2]}\n");
        r = run(new LogprobsCommand(), "--model", Fixture.MODEL.toString(), "--in", in.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("response"), r.err());

        r = run(new LogprobsCommand(), "--model", dir.resolve("nope").toString(), "--in", in.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("nope"), r.err());

        Path model = dir.resolve("model");
        Files.createDirectories(model);
        for (String f : List.of("model.safetensors", "tokenizer.json")) Files.copy(Fixture.MODEL.resolve(f), model.resolve(f));
        Files.writeString(model.resolve("config.json"), Files.readString(Fixture.MODEL.resolve("config.json"))
                .replace("LlamaForCausalLM", "GPTNeoXForCausalLM").replace("\"llama\"", "\"gpt_neox\""));
        r = run(new GenerateCommand(), "--model", model.toString(), "--in", in.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown architecture") && r.err().contains("config.json"), r.err());

        Files.copy(Fixture.MODEL.resolve("config.json"), model.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(model.resolve("config.json"), Files.readString(model.resolve("config.json")).replace("\"intermediate_size\": 160", "\"intermediate_size\": 128"));
        r = run(new GenerateCommand(), "--model", model.toString(), "--in", in.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("mlp.gate_proj.weight") && r.err().contains("shape"), r.err());
    }
}
