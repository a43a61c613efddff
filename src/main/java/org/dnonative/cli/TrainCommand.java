package org.dnonative.cli;

import org.dnonative.dist.Backend;
import org.dnonative.dist.Cluster;
import org.dnonative.dist.Launcher;
import org.dnonative.dist.World;
import org.dnonative.dno.DnoRun;
import org.dnonative.model.Policy;
import org.dnonative.dno.Progress;
import org.dnonative.dno.StageHook;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train}: a DNO run. With no arguments, the embedded default run (built-in tasks and oracle,
 * a small warm-started policy, CPU, no network). {@code --config FILE} (YAML or JSON) and the flags
 * of {@link TrainFlags} set everything else; flags override the file. {@code --resume DIR} continues
 * a run where it stopped.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs Direct Nash Optimization (Algorithm 2, DNO-Prct) and writes a run directory.",
                "With no arguments: the embedded default run on the CPU (about 50 s on 2 cores)."})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML or JSON configuration (see docs/TRAIN.md)")
    Path config;
    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in DIR with its saved configuration")
    Path resume;
    @Option(names = "--out", paramLabel = "DIR", description = "run directory (default: runs/dno-<timestamp>)")
    Path out;
    @Option(names = "--iterations", paramLabel = "N", description = "DNO iterations (default 3); on --resume, more iterations than planned")
    Integer iterations;
    @Option(names = "--progress", paramLabel = "MODE", defaultValue = "AUTO", description = "progress bars: AUTO, LOG or OFF")
    Progress.Mode progress;
    @Option(names = "--nproc", paramLabel = "N", description = "start N processes on this machine (data parallel, like torchrun --standalone); "
            + "processes started by torchrun or with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT join without it")
    Integer nproc;
    @Option(names = "--dist-backend", paramLabel = "NAME", defaultValue = "auto", description = "distributed backend: auto (NCCL on CUDA, else Gloo), gloo or nccl")
    String distBackend;
    @Option(names = "--dist-timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "a distributed run ends (exit 1) when a rank is dead or hung for this long (default 300)")
    long distTimeout;

    @Override
    public Integer call() throws Exception {
        if (nproc != null && nproc != 1) {
            try {
                List<String> args = new java.util.ArrayList<>(Launcher.withoutNproc(spec.commandLine().getParseResult().originalArgs()));
                if (!args.isEmpty() && args.get(0).equals("train")) args.remove(0);   // picocli gives the whole command line
                // every rank must name the same run directory: the launcher picks the default name once
                if (out == null && resume == null) args.addAll(List.of("--out", defaultOut().toString()));
                return Launcher.run(nproc, args, System.out, System.err);
            } catch (IllegalArgumentException e) {
                return PolicyOptions.handle(e, spec.commandLine().getErr());
            }
        }
        Cluster cluster = Cluster.single();
        try {
            World world = World.fromEnvironment();
            if (world.launched()) {
                if (distTimeout < 1) throw new IllegalArgumentException("--dist-timeout must be at least 1 second, got " + distTimeout);
                String device = world.deviceFor(deviceOf());
                cluster = Cluster.join(world, Backend.parse(distBackend, device), Policy.device(device), Duration.ofSeconds(distTimeout));
            }
            train(cluster);
            cluster.close();
            return 0;
        } catch (Exception e) {
            Exception named = e instanceof RuntimeException r ? cluster.nameSilentRanks(r) : e;
            cluster.reportFailure(Main.message(named));
            return PolicyOptions.handle(named, spec.commandLine().getErr());
        }
    }

    /** The device the run will use: --device, else the saved configuration's on --resume, else the configuration's. */
    private String deviceOf() {
        ParseResult parsed = spec.commandLine().getParseResult();
        if (parsed.hasMatchedOption("--device")) return parsed.matchedOptionValue("--device", "cpu");
        try {
            if (resume != null) return ConfigLoader.loadSaved(new org.dnonative.dno.RunDirectory(resume).config()).device();
            return config(TrainFlags.overrides(parsed, TrainFlags.given(parsed))).device();
        } catch (RuntimeException e) {
            return "cpu";   // the run reports what is wrong with its configuration itself
        }
    }

    private DnoConfig config(Map<String, Object> flagOverrides) {
        Map<String, Object> overrides = new LinkedHashMap<>(flagOverrides);
        if (iterations != null) overrides.put("iterations", iterations);
        boolean embedded = config == null && !overrides.containsKey("model");
        DnoConfig base = embedded ? DnoConfig.embeddedDefaults() : DnoConfig.defaults();
        return config != null ? ConfigLoader.load(config, base, overrides) : base.with(overrides);
    }

    private void train(Cluster cluster) {
        PrintWriter console = spec.commandLine().getOut();
        ParseResult parsed = spec.commandLine().getParseResult();
        List<TrainFlags.Flag> flags = TrainFlags.given(parsed);
        DnoRun run;
        if (resume != null) {
            List<String> refused = flags.stream().filter(f -> !f.environment()).map(TrainFlags.Flag::name).toList();
            if (config != null) refused = prepend("--config", refused);
            if (out != null) refused = prepend("--out", refused);
            if (!refused.isEmpty())
                throw new IllegalArgumentException("--resume continues a run with its saved configuration; it does not take "
                        + String.join(", ", refused) + " (it takes --iterations, to go on for more, and "
                        + String.join(", ", TrainFlags.FLAGS.stream().filter(TrainFlags.Flag::environment).map(TrainFlags.Flag::name).toList())
                        + " and --progress, which change where the run goes on, not what it computes)");
            run = DnoRun.resume(resume, TrainFlags.overrides(parsed, flags), iterations == null ? 0 : iterations,
                    StageHook.fromSystemProperty(), progress, console, cluster);
        } else {
            DnoConfig c = config(TrainFlags.overrides(parsed, flags));
            if (out == null && cluster.distributed())
                throw new IllegalArgumentException("a distributed run needs --out DIR (every rank must name the same run directory)");
            Path dir = out != null ? out : defaultOut();
            run = DnoRun.start(c, dir, StageHook.fromSystemProperty(), progress, console, cluster);
        }
        run.run();
    }

    private static Path defaultOut() {
        return Path.of("runs", "dno-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> out = new java.util.ArrayList<>();
        out.add(first);
        out.addAll(rest);
        return out;
    }
}
