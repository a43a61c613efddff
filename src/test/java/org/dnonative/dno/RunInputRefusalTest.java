package org.dnonative.dno;

import org.dnonative.cli.Main;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Configuration and prompt files that used to be misread or to fail late: a YAML key written twice,
 * YAML syntax errors, sizes no run needs, max_new_tokens beyond the model's positions, cuda without a
 * device, invalid UTF-8 and lone surrogates in a prompt file. Each is one line naming the file (and
 * line, field) before anything is written.
 */
class RunInputRefusalTest {
    @TempDir Path dir;

    private static String refused(Runnable r) {
        String m = assertThrows(ConfigException.class, r::run).getMessage();
        assertEquals(1, m.lines().count(), "one line: " + m);
        return m;
    }

    @Test
    void aYamlKeyWrittenTwiceIsRefusedAtItsSecondLine() throws Exception {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, "iterations: 2\ntraining:\n  beta: 0.2\n  beta: 0.3\n");
        String m = refused(() -> ConfigLoader.load(f, DnoConfig.defaults()));
        assertTrue(m.startsWith(f + ":4:"), m);
        assertTrue(m.contains("Duplicate field 'beta'"), m);
        // the same key in two different sections is two fields, not a duplicate
        Files.writeString(f, "sampling:\n  temperature: 0.5\nevaluation:\n  temperature: 0.5\n");
        assertEquals(0.5, ConfigLoader.load(f, DnoConfig.defaults()).evaluation().temperature());
        Path j = dir.resolve("run.json");
        Files.writeString(j, "{\"iterations\": 2,\n \"iterations\": 3}\n");
        m = refused(() -> ConfigLoader.load(j, DnoConfig.defaults()));
        assertTrue(m.startsWith(j + ":2:") && m.contains("Duplicate field 'iterations'"), m);
    }

    @Test
    void yamlSyntaxErrorsAreOneLineWithLineAndColumn() throws Exception {
        Path f = dir.resolve("run.yaml");
        String[][] cases = {
                {"iterations: 2\ntraining:\n  beta: [0.1\n", ":4:1: not valid YAML: "},
                {"iterations: 2\n  seed: 3\n", ":2:7: not valid YAML: "},
                {"training:\n  beta: \"0.1\n", ":3:1: not valid YAML: "},
                {"iterations: 2\n\tseed: 1\n", ":2:1: not valid YAML: "},
        };
        for (String[] c : cases) {
            Files.writeString(f, c[0]);
            String m = refused(() -> ConfigLoader.load(f, DnoConfig.defaults()));
            assertTrue(m.startsWith(f + c[1]), c[0].replace("\n", "\\n") + " -> " + m);
            assertFalse(m.contains("^"), "no snippet with a caret: " + m);
        }
    }

    @Test
    void sizesNoRunNeedsAreRefusedInTheConfiguration() throws Exception {
        Path f = dir.resolve("run.yaml");
        for (String field : new String[]{"samples", "max_new_tokens", "batch"}) {
            Files.writeString(f, "sampling:\n  " + field + ": 2000000000\n");
            String m = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, DnoConfig.defaults())).getMessage();
            assertTrue(m.startsWith(f + ":2: field 'sampling." + field + "' must be at most"), m);
        }
    }

    @Test
    void maxNewTokensBeyondTheModelsPositionsIsRefusedBeforeTheRun() {
        Path root = dir.resolve("run");
        DnoConfig c = DnoConfig.embeddedDefaults().with("sampling.max_new_tokens", 64);
        String m = refused(() -> Preflight.check(c, root, v -> null, 64, () -> false));
        assertTrue(m.contains("'sampling.max_new_tokens' (64)") && m.contains("max_position_embeddings (64)"), m);
        assertFalse(Files.exists(root));
        Preflight.check(DnoConfig.embeddedDefaults().with("sampling.max_new_tokens", 63), root, v -> null, 64, () -> false);
    }

    @Test
    void cudaWithoutADeviceIsRefusedBeforeTheRunDirectoryIsMade() {
        Path root = dir.resolve("run");
        DnoConfig c = DnoConfig.embeddedDefaults().with("device", "cuda");
        String m = refused(() -> Preflight.check(c, root, v -> null, 64, () -> false));
        assertTrue(m.contains("field 'device' (cuda)") && m.contains("no CUDA device"), m);
        assertFalse(Files.exists(root));
        // and through the command line, on a machine without one
        if (!org.bytedeco.pytorch.global.torch.cuda_is_available()) {
            StringWriter err = new StringWriter();
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err));
            cl.setOut(new PrintWriter(new StringWriter()));
            assertEquals(2, cl.execute("train", "--out", root.toString(), "--device", "cuda"), err.toString());
            assertTrue(err.toString().contains("field 'device'"), err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            assertFalse(Files.exists(root), "no run directory left behind");
        }
    }

    @Test
    void promptFilesWithInvalidUtf8OrLoneSurrogatesNameTheLine() throws Exception {
        Path f = dir.resolve("prompts.jsonl");
        Files.write(f, "{\"prompt\":\"a\"}\n{\"prompt\":\"b\u00ff\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        String m = refused(() -> PromptFile.read(f));
        assertTrue(m.startsWith(f + ":2: not valid UTF-8"), m);
        Files.writeString(f, "{\"prompt\":\"a\"}\r\n\r\n{\"prompt\":\"b\\udc00\",\"gold\":\"c\"}\r\n");
        m = refused(() -> PromptFile.read(f));
        assertTrue(m.startsWith(f + ":3: field 'prompt' holds a lone UTF-16 surrogate"), m);
        Files.writeString(f, "{\"prompt\":\"a\"} {\"prompt\":\"b\"}\n");
        m = refused(() -> PromptFile.read(f));
        assertTrue(m.startsWith(f + ":1: not valid JSON"), m);
        Files.writeString(f, "{\"prompt\":\"a\"}\r\n{\"prompt\":\"\u00e9\\ud83d\\ude00\"}");  // a valid pair, CRLF, no final newline
        assertEquals("\u00e9\ud83d\ude00", PromptFile.read(f).get(1).prompt());
    }
}
