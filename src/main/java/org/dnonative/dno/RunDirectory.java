package org.dnonative.dno;

import org.dnonative.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The layout of a run directory and its stage markers; {@link org.dnonative.dno.store.RunStore}
 * reads and writes the records in it.
 *
 * <pre>
 * config.json                 the resolved configuration
 * metrics.jsonl               one line per iteration (0 = the starting policy)
 * summary.txt, plot.png       the summary table and the win-rate/loss plot
 * best.json                   the best iterate by validation win-rate against the start
 * eval_prompts.jsonl          the held-out prompts
 * oracle-cache/               the LLM judge's judgment cache (judge runs)
 * iter-0/                     the start: checkpoint/ (embedded warm start), eval_samples.jsonl, eval.json
 * iter-t/                     prompts.jsonl, samples.jsonl, judgments.jsonl, pairs.jsonl,
 *                             train_pairs.jsonl (with replay), ref_logps.jsonl, checkpoint/ (pi_{t+1}),
 *                             train.json, eval_samples.jsonl, eval.json, metrics.json
 * iter-t/done/STAGE           a stage's marker, written after all of its files (with the stage's time)
 * </pre>
 * Every file is written atomically (a temporary file renamed over the target); a checkpoint is
 * written into a temporary directory that is renamed into place. A stage whose marker exists is
 * complete and is skipped on resume; one without is redone from its inputs.
 */
public final class RunDirectory {
    private final Path root;

    public RunDirectory(Path root) {
        this.root = root;
    }

    public Path root() { return root; }
    public Path config() { return root.resolve("config.json"); }
    public Path metrics() { return root.resolve("metrics.jsonl"); }
    public Path evalPrompts() { return root.resolve("eval_prompts.jsonl"); }
    public Path oracleCache() { return root.resolve("oracle-cache"); }
    public Path iteration(int t) { return root.resolve("iter-" + t); }
    public Path file(int t, String name) { return iteration(t).resolve(name); }
    public Path checkpoint(int t) { return iteration(t).resolve("checkpoint"); }

    public Path marker(int t, String stage) { return iteration(t).resolve("done").resolve(stage); }

    public boolean isDone(int t, String stage) {
        return Files.exists(marker(t, stage));
    }

    public static void writeString(Path file, String text) {
        try {
            AtomicFiles.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code writer} into a fresh temporary directory, then renames it to {@code target} (replacing it). */
    public static void writeDirectory(Path target, DirectoryWriter writer) {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".partial");
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            writer.writeInto(tmp);
            deleteTree(target);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    public interface DirectoryWriter {
        void writeInto(Path dir) throws IOException;
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** True when the directory does not exist or is empty. */
    public static boolean isEmpty(Path dir) {
        if (!Files.exists(dir)) return true;
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
