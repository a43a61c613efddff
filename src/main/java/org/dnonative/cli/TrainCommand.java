package org.dnonative.cli;

import org.dnonative.dno.DnoRun;
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
                "With no arguments: the embedded default run on the CPU (about 40 s on 2 quiet cores)."})
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

    @Override
    public Integer call() throws Exception {
        try {
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
                        StageHook.fromSystemProperty(), progress, console);
            } else {
                Map<String, Object> overrides = new LinkedHashMap<>(TrainFlags.overrides(parsed, flags));
                if (iterations != null) overrides.put("iterations", iterations);
                boolean embedded = config == null && !overrides.containsKey("model");
                DnoConfig base = embedded ? DnoConfig.embeddedDefaults() : DnoConfig.defaults();
                DnoConfig c = config != null ? ConfigLoader.load(config, base, overrides) : base.with(overrides);
                Path dir = out != null ? out : Path.of("runs", "dno-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
                run = DnoRun.start(c, dir, StageHook.fromSystemProperty(), progress, console);
            }
            run.run();
            return 0;
        } catch (Exception e) {
            return PolicyOptions.handle(e, spec.commandLine().getErr());
        }
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> out = new java.util.ArrayList<>();
        out.add(first);
        out.addAll(rest);
        return out;
    }
}
