package org.dnonative.dno;

import org.dnonative.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ConfigAndPromptFilesTest {

    static String message(Runnable r) {
        return assertThrows(ConfigException.class, r::run).getMessage();
    }

    @Test
    void yamlIsReadWithSnakeCaseFields(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, "seed: 9\niterations: 4\nbeta: 0.05\nlearning_rate: 1.0e-6\nreplay_fraction: 0.2\njudge:\n  base_url: http://localhost:8000/v1\n  model: m\noracle: judge\nembedded:\n  sft_steps: 3\n");
        ConfigLoader.Loaded l = ConfigLoader.load(f);
        ConfigLoader.validate(l.config(), f, l.lines());
        assertEquals(9, l.config().seed);
        assertEquals(4, l.config().iterations);
        assertEquals(0.05, l.config().beta);
        assertEquals(1e-6, l.config().learningRate);
        assertEquals("http://localhost:8000/v1", l.config().judge.baseUrl);
        assertEquals(3, l.config().embedded.sftSteps);
        assertEquals(5, l.config().samples, "unset fields keep the paper's defaults");
        assertEquals(0.7, l.config().temperature);
        assertEquals(64, l.config().batchSize);
    }

    @Test
    void errorsNameTheFileLineAndField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "seed: 1\nbta: 0.1\n");
        String m = message(() -> ConfigLoader.load(f));
        assertTrue(m.startsWith(f + ":2: unknown field 'bta'"), m);

        Files.writeString(f, "seed: 1\niterations: three\n");
        m = message(() -> ConfigLoader.load(f));
        assertTrue(m.startsWith(f + ":2: field 'iterations'"), m);

        Files.writeString(f, "seed: 1\nembedded:\n  layers: 2\n  cycle_strength: 0.9\nbeta: -1\n");
        ConfigLoader.Loaded l = ConfigLoader.load(f);
        m = message(() -> ConfigLoader.validate(l.config(), f, l.lines()));
        assertTrue(m.contains(f + ":5: field 'beta' must be > 0, was -1.0"), m);
        assertTrue(m.contains(f + ":4: field 'embedded.cycle_strength' must be in (0, 0.5]"), m);

        Path j = dir.resolve("bad.json");
        Files.writeString(j, "{\n  \"seed\": 1,\n  \"epochs\": 2\n}\n");
        ConfigLoader.Loaded lj = ConfigLoader.load(j);
        m = message(() -> ConfigLoader.validate(lj.config(), j, lj.lines()));
        assertTrue(m.startsWith(j + ":3: field 'epochs' must be in (0, 1]"), m);

        Files.writeString(j, "{\n  \"seed\": 1,\n  \"epochs\": \n}\n");
        m = message(() -> ConfigLoader.load(j));
        assertTrue(m.startsWith(j + ":4: not valid JSON"), m);
    }

    @Test
    void promptFileErrorsNameTheLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("p.jsonl");
        Files.writeString(f, "{\"prompt\": \"a\", \"gold\": \"b\"}\n\n{\"prompt\": \"c\"}\n");
        assertEquals(2, PromptFile.read(f).size());
        assertEquals("b", PromptFile.read(f).get(0).gold());
        Files.writeString(f, "{\"prompt\": \"a\"}\n{\"prompt\": 3}\n");
        assertEquals(f + ":2: field 'prompt' must be a string, was number", message(() -> PromptFile.read(f)));
        Files.writeString(f, "{\"prompt\": \"a\"}\n{\"text\": \"b\"}\n");
        assertEquals(f + ":2: field 'prompt' is missing", message(() -> PromptFile.read(f)));
        Files.writeString(f, "{\"prompt\": \"a\"}\n{\"prompt\": \"a\"\n");
        assertTrue(message(() -> PromptFile.read(f)).startsWith(f + ":2: not valid JSON"));
        Files.writeString(f, "{\"prompt\": \"a\"}\n{\"prompt\": \"a\"}\n");
        assertEquals(f + ":2: duplicate prompt (first on line 1)", message(() -> PromptFile.read(f)));
    }

    @Test
    void theTrainCommandExitsWithTwoAndWritesNothing(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("c.yaml");
        Files.writeString(cfg, "iterations: 0\n");
        Path out = dir.resolve("run");
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute("train", "--config", cfg.toString(), "--out", out.toString()));
        assertTrue(err.toString().contains(cfg + ":1: field 'iterations' must be at least 1"), err.toString());
        assertFalse(Files.exists(out));

        Path prompts = dir.resolve("p.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"1+1=\"}\nnot json\n");
        err.getBuffer().setLength(0);
        assertEquals(2, cl.execute("train", "--prompts", prompts.toString(), "--out", out.toString()));
        assertTrue(err.toString().contains(prompts + ":2: not valid JSON"), err.toString());
        assertFalse(Files.exists(out), "nothing half-written");

        err.getBuffer().setLength(0);
        assertEquals(2, cl.execute("train", "--beta", "0", "--out", out.toString()));
        assertTrue(err.toString().contains("field 'beta' must be > 0"), err.toString());
        assertFalse(Files.exists(out));
    }
}
