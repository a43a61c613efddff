package org.dnonative.cli;

import org.dnonative.io.SafetensorsException;
import org.dnonative.model.ModelException;
import org.dnonative.model.tokenizer.TokenizerException;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;

/** Options shared by the policy subcommands, and their error handling (clear message, exit code 2). */
final class PolicyOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "HuggingFace model directory (config.json, model.safetensors, tokenizer.json)")
    Path model;

    @Option(names = "--in", paramLabel = "FILE", description = "JSONL input (default: standard input)")
    Path in;

    @Option(names = "--out", paramLabel = "FILE", description = "JSONL output, written atomically (default: standard output)")
    Path out;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "CPU compute threads (0 = every processor): the batch is split over N single-threaded workers, as in train")
    int threads;

    /** Applies {@code --threads} (before the model computes anything). */
    void applyThreads() {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        org.dnonative.model.Threads.configure(threads);
    }

    @Option(names = "--raw", description = "use prompt text as is instead of putting it through the chat template")
    boolean raw;

    static final int USER_ERROR = 2;

    /** Maps the failures a user can cause to a message and exit code 2; anything else is a bug and propagates. */
    static int handle(Exception e, PrintWriter err) throws Exception {
        if (e instanceof JsonlIO.InputException || e instanceof ModelException || e instanceof TokenizerException
                || e instanceof SafetensorsException || e instanceof IllegalArgumentException) {
            err.println("error: " + e.getMessage());
            err.flush();
            return USER_ERROR;
        }
        throw e;
    }
}
