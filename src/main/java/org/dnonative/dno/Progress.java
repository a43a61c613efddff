package org.dnonative.dno;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Progress of sampling, annotation, scoring and training. On a terminal ({@link Mode#AUTO} with a
 * console) a bar redraws in place; otherwise ({@link Mode#LOG}, or AUTO with output redirected) each
 * task logs exactly one plain line when it ends ({@code sampling pi_2: 38/38 in 0.3 s}): a log file
 * or CI log gets no ANSI escapes, no carriage returns and no bar printed at start, refresh and close.
 * {@link Mode#OFF} prints nothing.
 */
public final class Progress implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("dno.progress");

    public enum Mode { AUTO, LOG, OFF }

    /** Makes the progress bars of one run (or command). */
    @FunctionalInterface
    public interface Factory {
        Progress start(String task, long total);
    }

    /** Bars in {@code mode}. */
    public static Factory factory(Mode mode) {
        return (task, total) -> start(mode, task, total);
    }

    private final ProgressBar bar;
    private final boolean logLine;
    private final String task;
    private final long total;
    private final long startNanos = System.nanoTime();
    private long done;
    private String extra = "";
    private Runnable onStep;
    private boolean closed;

    private Progress(ProgressBar bar, boolean logLine, String task, long total) {
        this.bar = bar;
        this.logLine = logLine;
        this.task = task;
        this.total = total;
    }

    /** Also calls {@code r} at every step (the run's mid-stage fault injection, {@link StageHook#during}). */
    public Progress onStep(Runnable r) {
        this.onStep = r;
        return this;
    }

    public static Progress start(Mode mode, String task, long total) {
        if (mode == Mode.OFF) return new Progress(null, false, task, total);
        if (mode == Mode.AUTO && System.console() != null) {
            ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(250).build();
            return new Progress(bar, false, task, total);
        }
        return new Progress(null, true, task, total);
    }

    public void step(long n) {
        done += n;
        if (bar != null) bar.stepBy(n);
        if (onStep != null) onStep.run();
    }

    public void extra(String message) {
        extra = message == null ? "" : message;
        if (bar != null) bar.setExtraMessage(extra);
    }

    /** The one line a finished task logs when there is no terminal. */
    String line() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        return String.format(Locale.ROOT, "%s: %d/%d in %.1f s%s", task, done, total, seconds,
                extra.isBlank() ? "" : " (" + extra.strip() + ")");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (bar != null) bar.close();
        if (logLine) LOG.info(line());
    }
}
