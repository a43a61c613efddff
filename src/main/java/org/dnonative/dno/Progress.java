package org.dnonative.dno;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress bars for sampling, annotation, scoring and training: drawn on the terminal when there is
 * one, otherwise routed to the log every few seconds (no carriage-return noise in CI logs), or off.
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
    private Runnable onStep;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** Also calls {@code r} at every step (the run's mid-stage fault injection, {@link StageHook#during}). */
    public Progress onStep(Runnable r) {
        this.onStep = r;
        return this;
    }

    public static Progress start(Mode mode, String task, long total) {
        if (mode == Mode.OFF) return new Progress(null);
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).showSpeed();
        if (mode == Mode.AUTO && System.console() != null) {
            b.setConsumer(new ConsoleProgressBarConsumer(System.err)).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250);
        } else {
            b.setConsumer(new DelegatingProgressBarConsumer(LOG::info)).setUpdateIntervalMillis(10_000);
        }
        return new Progress(b.build());
    }

    public void step(long n) {
        if (bar != null) bar.stepBy(n);
        if (onStep != null) onStep.run();
    }

    public void extra(String message) {
        if (bar != null) bar.setExtraMessage(message);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
