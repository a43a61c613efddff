package org.dnonative.dno;

import org.dnonative.cli.Main;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.config.OracleConfig;
import org.dnonative.train.PairLoss;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ConfigAndPromptFilesTest {

    static String message(Runnable r) {
        return assertThrows(ConfigException.class, r::run).getMessage();
    }

    static DnoConfig load(Path f) {
        return ConfigLoader.load(f, DnoConfig.defaults());
    }

    @Test
    void yamlIsReadWithSnakeCaseFieldsNestedByConcern(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, "seed: 9\niterations: 4\ntraining:\n  beta: 0.05\n  learning_rate: 1.0e-6\n  loss: fused\n"
                + "pairs:\n  replay_fraction: 0.2\noracle:\n  kind: judge\n  mode: pairwise\n  judge:\n    base_url: http://localhost:8000/v1\n    model: m\n"
                + "embedded:\n  sft_steps: 3\n");
        DnoConfig c = load(f);
        assertEquals(9, c.seed());
        assertEquals(4, c.iterations());
        assertEquals(0.05, c.training().beta());
        assertEquals(1e-6, c.training().learningRate());
        assertEquals(PairLoss.Kind.FUSED, c.training().loss());
        assertEquals(OracleConfig.Kind.JUDGE, c.oracle().kind());
        assertEquals(OracleConfig.Mode.PAIRWISE, c.oracle().mode());
        assertEquals("http://localhost:8000/v1", c.oracle().judge().baseUrl());
        assertEquals("OPENAI_API_KEY", c.oracle().judge().apiKeyEnv(), "unset fields of a section keep the defaults");
        assertEquals(3, c.embedded().sftSteps());
        assertEquals(5, c.sampling().samples(), "unset fields keep the paper's defaults");
        assertEquals(0.7, c.sampling().temperature());
        assertEquals(64, c.training().batchSize());
        // what a run directory saves reads back to the same configuration
        Path saved = dir.resolve("config.json");
        Files.writeString(saved, ConfigLoader.toJson(c));
        assertEquals(c, ConfigLoader.loadSaved(saved));
        assertTrue(Files.readString(saved).contains("\"loss\" : \"fused\""), "enums are saved in lower case");
    }

    /** docs/TRAIN.md's configuration reference is a complete YAML file of the defaults. */
    @Test
    void theDocumentedConfigurationIsTheDefault(@TempDir Path dir) throws Exception {
        String doc = Files.readString(Path.of(System.getProperty("user.dir"), "..", "docs", "TRAIN.md"));
        int from = doc.indexOf("```yaml\n", doc.indexOf("## Configuration reference"));
        String yaml = doc.substring(from + 8, doc.indexOf("```", from + 8));
        Path f = dir.resolve("documented.yaml");
        Files.writeString(f, yaml);
        assertEquals(DnoConfig.defaults(), ConfigLoader.load(f, DnoConfig.embeddedDefaults()), "every field documented, with its default");
    }

    @Test
    void aConfigurationIsImmutableAndOverridesMakeValidatedCopies() {
        DnoConfig d = DnoConfig.defaults();
        DnoConfig e = d.with("sampling.samples", 7);
        assertEquals(5, d.sampling().samples());
        assertEquals(7, e.sampling().samples());
        assertEquals(d.training(), e.training(), "other sections are the same");
        assertTrue(message(() -> d.with("training.beta", 0)).contains("field 'training.beta' must be > 0, was 0.0"));
        assertThrows(IllegalArgumentException.class, () -> d.with("training.bta", 1));
        assertEquals("float32", d.sampling().dtype());
        assertEquals("bfloat16", d.with("sampling.dtype", "bfloat16").sampling().dtype());
        assertTrue(message(() -> d.with("sampling.dtype", "float16")).contains("field 'sampling.dtype' must be float32 or bfloat16, was float16"));
        assertTrue(message(() -> d.with("pairs.top_tolerance", 1)).contains("field 'pairs.top_tolerance' needs pairs.all_top_positives"));
        assertTrue(message(() -> d.with("pairs.top_tolerance", -1)).contains("field 'pairs.top_tolerance' must be >= 0"));
        assertEquals(1.0, d.with(java.util.Map.of("pairs.all_top_positives", true, "pairs.top_tolerance", 1)).pairs().topTolerance());
        assertEquals(org.dnonative.dno.config.TrainingConfig.Reference.PREVIOUS, d.training().reference(), "the paper's reference: pi_t");
        assertEquals(org.dnonative.dno.config.TrainingConfig.Reference.START, d.with("training.reference", "start").training().reference());
        assertTrue(message(() -> d.with("training.reference", "first")).contains("training.reference"));
        assertEquals(4, d.training().referenceIteration(4), "previous: iteration 4 steps from pi_4");
        assertEquals(1, d.with("training.reference", "start").training().referenceIteration(4), "start: from pi_1 at every iteration");
        assertTrue(message(() -> new org.dnonative.dno.config.SamplingConfig(1, 0.7, 0.95, 0, 256, 64, false, "float32").toString())
                .contains("field 'samples' must be at least 2, was 1"), "the compact constructor validates");
        // every leaf field has a path that overrides take
        for (String path : ConfigLoader.fieldPaths(d)) assertNotNull(path);
        assertTrue(ConfigLoader.fieldPaths(d).containsAll(List.of("seed", "sampling.top_p", "sampling.mask_untokenized_ids", "oracle.judge.base_url", "training.loss")));
    }

    @Test
    void errorsNameTheFileLineAndField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "seed: 1\nbta: 0.1\n");
        String m = message(() -> load(f));
        assertTrue(m.startsWith(f + ":2: unknown field 'bta'"), m);

        Files.writeString(f, "seed: 1\ntraining:\n  bta: 0.1\n");
        m = message(() -> load(f));
        assertTrue(m.startsWith(f + ":3: unknown field 'training.bta'"), m);

        Files.writeString(f, "seed: 1\niterations: three\n");
        m = message(() -> load(f));
        assertTrue(m.startsWith(f + ":2: field 'iterations'"), m);

        Files.writeString(f, "seed: 1\ntraining:\n  loss: fast\n");
        m = message(() -> load(f));
        assertTrue(m.startsWith(f + ":3: field 'training.loss'") && m.contains("fast"), m);

        Files.writeString(f, "seed: 1\noracle:\n  cycle_strength: 0.9\ntraining:\n  beta: -1\n  epochs: 2\n");
        m = message(() -> load(f));
        assertTrue(m.contains(f + ":3: field 'oracle.cycle_strength' must be in (0, 0.5]"), m);

        Files.writeString(f, "seed: 1\ntraining:\n  beta: -1\n  epochs: 2\n");
        m = message(() -> load(f));
        assertTrue(m.contains(f + ":3: field 'training.beta' must be > 0, was -1.0"), m);
        assertTrue(m.contains(f + ":4: field 'training.epochs' must be in (0, 1]"), "every problem of the section: " + m);

        Files.writeString(f, "oracle:\n  kind: judge\n");
        m = message(() -> load(f));
        assertTrue(m.contains("field 'oracle.judge.base_url' is required when kind is judge"), m);

        Path j = dir.resolve("bad.json");
        Files.writeString(j, "{\n  \"seed\": 1,\n  \"evaluation\": {\"samples\": 0}\n}\n");
        m = message(() -> load(j));
        assertTrue(m.startsWith(j + ":3: field 'evaluation.samples' must be at least 1"), m);

        Files.writeString(j, "{\n  \"seed\": 1,\n  \"iterations\": \n}\n");
        m = message(() -> load(j));
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
        assertTrue(err.toString().contains("field 'training.beta' must be > 0"), err.toString());
        assertFalse(Files.exists(out));
    }

    /** What only the run's inputs and machine can tell is checked before the run directory is made, too. */
    @Test
    void aRunRefusedByItsInputsOrMachineWritesNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        // 60 prompts: 40 held out for evaluation leave 20, fewer than the 3 parts of 38 the default trains on
        Path few = dir.resolve("few.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 60; i++) lines.append("{\"prompt\": \"").append(i % 10).append('+').append(i / 10).append("=\", \"gold\": \"")
                .append(i % 10 + i / 10).append("\"}\n");
        Files.writeString(few, lines.toString());
        String[][] refused = {
                {"--prompts", few.toString()},
                {"--judge-url", "http://127.0.0.1:9/v1", "--judge-model", "m", "--judge-api-key-env", "DNO_TEST_UNSET_KEY_VARIABLE"},
                {"--teacher-url", "http://127.0.0.1:9/v1", "--teacher-model", "m", "--teacher-api-key-env", "DNO_TEST_UNSET_KEY_VARIABLE"},
                {"--threads", String.valueOf(Runtime.getRuntime().availableProcessors() + 1)},
                {"--model", dir.toString()},
                {"--eval-prompts", dir.resolve("missing.jsonl").toString()},
        };
        String[] expected = {"not enough prompts", "DNO_TEST_UNSET_KEY_VARIABLE is not set", "DNO_TEST_UNSET_KEY_VARIABLE is not set",
                "field 'threads'", "is not a HuggingFace model directory", "missing.jsonl"};
        for (int i = 0; i < refused.length; i++) {
            err.getBuffer().setLength(0);
            String[] args = new String[refused[i].length + 3];
            args[0] = "train";
            args[1] = "--out";
            args[2] = out.toString();
            System.arraycopy(refused[i], 0, args, 3, refused[i].length);
            assertEquals(2, cl.execute(args), String.join(" ", args) + ": " + err);
            assertTrue(err.toString().contains(expected[i]), String.join(" ", args) + ": " + err);
            assertFalse(Files.exists(out), "nothing written for " + String.join(" ", args));
        }
    }
}
