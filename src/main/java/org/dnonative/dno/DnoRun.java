package org.dnonative.dno;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dist.Cluster;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.stage.EvaluationStage;
import org.dnonative.dno.stage.JudgingStage;
import org.dnonative.dno.stage.MetricsStage;
import org.dnonative.dno.stage.PairsStage;
import org.dnonative.dno.stage.ReferenceStage;
import org.dnonative.dno.stage.RunContext;
import org.dnonative.dno.stage.SamplingStage;
import org.dnonative.dno.stage.SplitStage;
import org.dnonative.dno.stage.Stage;
import org.dnonative.dno.stage.TrainingStage;
import org.dnonative.dno.stage.WarmStartStage;
import org.dnonative.dno.store.RunStore;
import org.dnonative.model.Policy;
import org.dnonative.oracle.judge.JudgmentCache;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * DNO's practical algorithm (Algorithm 2, "DNO-Prct"; Algorithm 1's soft targets as an option) as a
 * sequence of stages over a run store. Iteration 0 is the start: the prompt split, the embedded warm
 * start (when no model is given) and the starting policy's evaluation. Iteration t = 1..T samples
 * pi_t, judges, makes pairs, scores them under the frozen pi_t, trains pi_{t+1}, evaluates it. Each
 * stage's marker is written after its files; a resumed run skips the stages that have one, and on
 * the CPU with a fixed libtorch thread count every stage is bitwise reproducible, so a run resumed
 * after a crash finishes exactly as an uninterrupted one would.
 */
public final class DnoRun {
    public static final List<Stage> START = List.of(new SplitStage(), new WarmStartStage(), new EvaluationStage(),
            new MetricsStage(List.of("split", "sft", "eval")));
    public static final List<Stage> ITERATION = List.of(new SamplingStage(), new JudgingStage(), new PairsStage(), new ReferenceStage(),
            new TrainingStage(), new EvaluationStage(),
            new MetricsStage(List.of("samples", "judgments", "pairs", "reference", "train", "eval")));

    private final DnoConfig config;
    private final RunStore store;
    private final StageHook hook;
    private final Progress.Mode progress;
    private final PrintWriter console;
    private final Cluster cluster;

    private DnoRun(DnoConfig config, Path root, StageHook hook, Progress.Mode progress, PrintWriter console, Cluster cluster) {
        this.config = config;
        this.cluster = cluster;
        // rank 0 writes the run directory, prints and shows progress; the other ranks read it and stay quiet
        this.store = new RunStore(new RunDirectory(root), cluster.isMain());
        this.hook = hook == null ? StageHook.NONE : hook;
        this.progress = cluster.isMain() ? progress : Progress.Mode.OFF;
        this.console = cluster.isMain() ? console : null;
    }

    /** What a finished run reports. */
    public record Result(Path runDirectory, List<ObjectNode> metrics, int bestIteration, Path bestCheckpoint) {}

    /**
     * Starts a run in an empty (or missing) directory. Everything that can be checked is checked
     * first ({@link Preflight}), so a refused run writes nothing; then the configuration is saved.
     */
    public static DnoRun start(DnoConfig config, Path root, StageHook hook, Progress.Mode progress, PrintWriter console) {
        return start(config, root, hook, progress, console, Cluster.single());
    }

    /**
     * As {@link #start(DnoConfig, Path, StageHook, Progress.Mode, PrintWriter)} on every rank of
     * {@code cluster}: the ranks must have the same configuration (up to the device) and run
     * directory, or every rank refuses; rank 0 checks and saves, the others wait.
     */
    public static DnoRun start(DnoConfig config, Path root, StageHook hook, Progress.Mode progress, PrintWriter console, Cluster cluster) {
        SameConfig.check(cluster, config, root);
        cluster.onMain("checking and saving the configuration", () -> {
            Preflight.check(config, root);
            RunDirectory.writeString(new RunDirectory(root).config(), ConfigLoader.toJson(config));
        });
        return new DnoRun(config, root, hook, progress, console, cluster);
    }

    /** Continues the run in {@code root} with the configuration saved there. */
    public static DnoRun resume(Path root, StageHook hook, Progress.Mode progress, PrintWriter console) {
        return resume(root, Map.of(), 0, hook, progress, console);
    }

    /**
     * Continues the run in {@code root}. {@code environment} (dotted field paths to values) may change
     * where it executes (device, threads, the names of the API-key variables), not what it computes;
     * those changes are not saved. With {@code iterations} above the saved number (0: keep it) the
     * run goes on for more iterations: they cycle through the prompt parts made at the start
     * (iteration t takes part (t-1) mod parts + 1), and the new count is saved in config.json.
     * Iterations already done are not touched, so an extended run is not the run that a larger count
     * from the start would give.
     */
    public static DnoRun resume(Path root, Map<String, ?> environment, int iterations, StageHook hook, Progress.Mode progress,
                                PrintWriter console) {
        return resume(root, environment, iterations, hook, progress, console, Cluster.single());
    }

    /**
     * As {@link #resume(Path, Map, int, StageHook, Progress.Mode, PrintWriter)} on every rank of
     * {@code cluster}, with any number of ranks (the stages that are done stay done; the others are
     * sharded anew): rank 0 checks the directory and saves a larger iteration count first, then every
     * rank reads the configuration, checks its machine and endpoints, and the ranks compare what they read.
     */
    public static DnoRun resume(Path root, Map<String, ?> environment, int iterations, StageHook hook, Progress.Mode progress,
                                PrintWriter console, Cluster cluster) {
        if (!cluster.distributed()) return new DnoRun(resumedConfig(root, environment, iterations), root, hook, progress, console, cluster);
        DnoConfig[] resumed = new DnoConfig[1];
        cluster.onMain("checking the run directory", () -> resumed[0] = resumedConfig(root, environment, iterations));
        // the others read it after rank 0 saved any larger iteration count (so they find it saved and write nothing)
        cluster.gather("reading the saved configuration", 0, String.class, () -> {
            if (!cluster.isMain()) resumed[0] = resumedConfig(root, environment, iterations);
            return Map.<Integer, String>of();
        });
        SameConfig.check(cluster, resumed[0], root);
        return new DnoRun(resumed[0], root, hook, progress, console, cluster);
    }

    /** The saved configuration with the environment's changes; checks the machine and endpoints; saves a larger iteration count. */
    private static DnoConfig resumedConfig(Path root, Map<String, ?> environment, int iterations) {
        Path cfg = new RunDirectory(root).config();
        if (!Files.exists(cfg)) throw new ConfigException(root + ": not a run directory (no config.json)");
        DnoConfig saved = ConfigLoader.loadSaved(cfg);
        boolean more = iterations != 0 && iterations != saved.iterations();
        if (more) {
            if (iterations < saved.iterations())
                throw new ConfigException("--iterations " + iterations + " on --resume: the run has " + saved.iterations()
                        + " iterations planned; a resumed run can have more, not fewer");
            saved = saved.with("iterations", iterations);
        }
        DnoConfig resumed = saved.with(environment);
        // where it goes on must fit this machine, and the endpoints must answer, before anything is written
        Preflight.machine(resumed);
        RunStore store = new RunStore(root);
        boolean unfinished = false;
        for (int t = 0; t <= resumed.iterations(); t++) unfinished |= !store.isDone(t, "metrics");
        Preflight.endpoints(resumed, System::getenv, unfinished, !store.isDone(0, "split"));
        if (more) RunDirectory.writeString(cfg, ConfigLoader.toJson(saved));
        return resumed;
    }

    public DnoConfig config() { return config; }
    public RunStore store() { return store; }

    public Result run() {
        long started = System.nanoTime();
        org.dnonative.model.Threads.configure(config.threads());
        // ranks other than 0 append their judgments to files of their own in the one cache directory
        String cacheWriter = cluster.isMain() ? null : "rank-" + cluster.rank();
        try (RunContext ctx = new RunContext(config, store, Policy.device(cluster.world().deviceFor(config.device())), progress, console, hook,
                () -> OracleFactory.open(config.oracle(), config.seed(), store.directory().oracleCache(), cacheWriter), cluster)) {
            for (Stage s : START) runStage(ctx, s, 0);
            for (int t = 1; t <= config.iterations(); t++) {
                if (cluster.agree(store.isDone(t, "metrics"), "deciding on iteration " + t)) continue;
                ctx.say("iteration %d of %d", t, config.iterations());
                for (Stage s : ITERATION) runStage(ctx, s, t);
            }
        }
        // every rank's oracle is closed: rank 0 folds the other ranks' judgment files (of this run, or
        // of an earlier attempt with more processes) into the one cache file
        cluster.barrier("closing the oracles");
        if (cluster.isMain()) JudgmentCache.mergeWriters(store.directory().oracleCache());
        return report((System.nanoTime() - started) / 1e9);
    }

    /**
     * Runs a stage unless it is done. In a distributed run rank 0's view of the markers decides for
     * every rank; a sharded stage runs on every rank and ends with a barrier, any other runs on rank 0
     * while the rest wait; rank 0 writes the marker, after every rank is through.
     */
    private void runStage(RunContext ctx, Stage stage, int t) {
        boolean skip = store.isDone(t, stage.name()) || !stage.applies(ctx);
        if (cluster.agree(skip, "deciding on stage " + t + ":" + stage.name())) return;
        long t0 = System.nanoTime();
        ctx.enter(t, stage.name());
        if (stage.sharded() || !cluster.distributed()) {
            stage.run(ctx, t);
            hook.beforeMarker(t, stage.name());
            cluster.barrier("the end of stage " + t + ":" + stage.name());
            store.markDone(t, stage.name(), (System.nanoTime() - t0) / 1e9);
        } else {
            cluster.onMain("stage " + t + ":" + stage.name() + " (rank 0 does it)", () -> {
                stage.run(ctx, t);
                hook.beforeMarker(t, stage.name());
                store.markDone(t, stage.name(), (System.nanoTime() - t0) / 1e9);
            });
        }
    }

    /** The best iterate by win-rate against the start, the summary table and the plot; printed. */
    private Result report(double wallSeconds) {
        List<ObjectNode> metrics = store.collectMetrics(config.iterations());
        if (!store.writes()) return new Result(store.root(), metrics, -1, null);
        int best = 0;
        double bestRate = Double.NEGATIVE_INFINITY;
        for (ObjectNode m : metrics) {
            double r = m.path("winrate_vs_start").asDouble(Double.NaN);
            if (r > bestRate) { bestRate = r; best = m.get("iteration").asInt(); }
        }
        Path bestCheckpoint = best == 0 ? (config.usesEmbeddedModel() ? store.checkpoint(0) : Path.of(config.model())) : store.checkpoint(best);
        Path abs = bestCheckpoint.toAbsolutePath().normalize(), rootAbs = store.root().toAbsolutePath().normalize();
        ObjectNode b = RunStore.JSON.createObjectNode();
        b.put("iteration", best);
        b.put("checkpoint", abs.startsWith(rootAbs) ? rootAbs.relativize(abs).toString() : abs.toString());
        b.put("winrate_vs_start", bestRate);
        RunStore.writeJson(store.root().resolve("best.json"), b);
        String table = Summary.table(metrics, best);
        RunDirectory.writeString(store.root().resolve("summary.txt"), table);
        Summary.plot(metrics, store.root().resolve("plot.png"));
        if (console != null) {
            console.println();
            console.print(table);
            console.printf("best iterate: iteration %d (%s)%n", best, bestCheckpoint);
            console.printf("run directory: %s (plot.png, metrics.jsonl)  wall time: %.1f s%n", store.root(), wallSeconds);
            console.flush();
        }
        return new Result(store.root(), metrics, best, bestCheckpoint);
    }
}
