package org.dnonative.cli;

import org.dnonative.dno.ConfigLoader;
import org.dnonative.dno.DnoConfig;
import org.dnonative.dno.DnoRun;
import org.dnonative.dno.Progress;
import org.dnonative.dno.StageHook;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train}: a DNO run. With no arguments, the embedded default run (built-in tasks and oracle,
 * a small warm-started policy, CPU, no network). {@code --config FILE} (YAML or JSON) and flags set
 * everything else; flags override the file. {@code --resume DIR} continues a run where it stopped.
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
    @Option(names = "--model", paramLabel = "DIR", description = "starting policy, a HuggingFace model directory (default: the embedded model)")
    String model;
    @Option(names = "--prompts", paramLabel = "FILE.jsonl", description = "prompts: {\"prompt\": ..., \"gold\": ...} per line")
    String prompts;
    @Option(names = "--eval-prompts", paramLabel = "FILE.jsonl", description = "held-out prompts for evaluation")
    String evalPrompts;
    @Option(names = "--judge-url", paramLabel = "URL", description = "an OpenAI-compatible endpoint as the oracle, e.g. http://localhost:8000/v1")
    String judgeUrl;
    @Option(names = "--judge-model", paramLabel = "NAME", description = "the judge model's name")
    String judgeModel;
    @Option(names = "--judge-api-key-env", paramLabel = "VAR", description = "environment variable with the judge's API key")
    String judgeKeyEnv;
    @Option(names = "--judge-mode", paramLabel = "MODE", description = "listwise, pairwise or both")
    String judgeMode;
    @Option(names = "--teacher-url", paramLabel = "URL", description = "a teacher model behind an OpenAI-compatible endpoint writes the gold responses the prompts lack")
    String teacherUrl;
    @Option(names = "--teacher-model", paramLabel = "NAME", description = "the teacher model's name")
    String teacherModel;
    @Option(names = "--teacher-api-key-env", paramLabel = "VAR", description = "environment variable with the teacher's API key")
    String teacherKeyEnv;
    @Option(names = {"-k", "--samples"}, paramLabel = "K", description = "samples per prompt (default 5)")
    Integer samples;
    @Option(names = "--beta", description = "beta (eta) of the DNO loss (default 0.1)")
    Double beta;
    @Option(names = "--iterations", description = "DNO iterations (default 3)")
    Integer iterations;
    @Option(names = {"--lr", "--learning-rate"}, description = "learning rate (default 5e-5)")
    Double learningRate;
    @Option(names = "--batch-size", description = "pairs per optimizer step (default 64)")
    Integer batchSize;
    @Option(names = "--micro-batch", description = "pairs per forward/backward pass (default 8)")
    Integer microBatch;
    @Option(names = "--soft-targets", description = "Algorithm 1: soft targets sigma(r_t(y_w) - r_t(y_l)) with the pairwise rule")
    Boolean softTargets;
    @Option(names = "--device", description = "cpu, cuda or cuda:N")
    String device;
    @Option(names = "--threads", description = "libtorch CPU threads (0 = libtorch's default)")
    Integer threads;
    @Option(names = "--seed")
    Long seed;
    @Option(names = "--progress", paramLabel = "MODE", defaultValue = "AUTO", description = "progress bars: AUTO, LOG or OFF")
    Progress.Mode progress;

    @Override
    public Integer call() throws Exception {
        try {
            PrintWriter console = spec.commandLine().getOut();
            DnoRun run;
            if (resume != null) {
                List<String> refused = configurationFlagsGiven();
                if (!refused.isEmpty())
                    throw new IllegalArgumentException("--resume continues a run with its saved configuration; it does not take "
                            + String.join(", ", refused) + " (it takes --iterations, to go on for more, and --device, "
                            + "--threads, --judge-api-key-env, --teacher-api-key-env and --progress, which change where "
                            + "the run goes on, not what it computes)");
                run = DnoRun.resume(resume, this::applyEnvironmentFlags, iterations == null ? 0 : iterations,
                        StageHook.fromSystemProperty(), progress, console);
            } else {
                DnoConfig c;
                Path file = null;
                Map<String, Integer> lines = Map.of();
                if (config != null) {
                    ConfigLoader.Loaded loaded = ConfigLoader.load(config);
                    c = loaded.config();
                    file = config;
                    lines = loaded.lines();
                } else {
                    c = model == null ? DnoConfig.embeddedDefaults() : new DnoConfig();
                }
                applyFlags(c);
                ConfigLoader.validate(c, file, lines);
                Path dir = out != null ? out : Path.of("runs", "dno-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
                run = DnoRun.start(c, dir, StageHook.fromSystemProperty(), progress, console);
            }
            run.run();
            return 0;
        } catch (Exception e) {
            return PolicyOptions.handle(e, spec.commandLine().getErr());
        }
    }

    /** The flags given that would change what a run computes, which a resumed run cannot take. */
    private List<String> configurationFlagsGiven() {
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("--config", config);
        flags.put("--out", out);
        flags.put("--model", model);
        flags.put("--prompts", prompts);
        flags.put("--eval-prompts", evalPrompts);
        flags.put("--judge-url", judgeUrl);
        flags.put("--judge-model", judgeModel);
        flags.put("--judge-mode", judgeMode);
        flags.put("--teacher-url", teacherUrl);
        flags.put("--teacher-model", teacherModel);
        flags.put("--samples", samples);
        flags.put("--beta", beta);
        flags.put("--lr", learningRate);
        flags.put("--batch-size", batchSize);
        flags.put("--micro-batch", microBatch);
        flags.put("--soft-targets", softTargets);
        flags.put("--seed", seed);
        List<String> given = new ArrayList<>();
        flags.forEach((name, value) -> { if (value != null) given.add(name); });
        return given;
    }

    /** Where the run executes and how it reaches its endpoints: allowed on --resume too. */
    private void applyEnvironmentFlags(DnoConfig c) {
        if (device != null) c.device = device;
        if (threads != null) c.threads = threads;
        if (judgeKeyEnv != null) c.judge.apiKeyEnv = judgeKeyEnv;
        if (teacherKeyEnv != null) c.teacherEndpoint.apiKeyEnv = teacherKeyEnv;
    }

    private void applyFlags(DnoConfig c) {
        if (model != null) c.model = model;
        if (prompts != null) c.prompts = prompts;
        if (evalPrompts != null) c.evalPromptsFile = evalPrompts;
        if (judgeUrl != null) { c.oracle = "judge"; c.judge.baseUrl = judgeUrl; }
        if (judgeModel != null) c.judge.model = judgeModel;
        if (judgeKeyEnv != null) c.judge.apiKeyEnv = judgeKeyEnv;
        if (judgeMode != null) c.judge.mode = judgeMode;
        if (teacherUrl != null) { c.teacher = "endpoint"; c.teacherEndpoint.baseUrl = teacherUrl; }
        if (teacherModel != null) c.teacherEndpoint.model = teacherModel;
        if (teacherKeyEnv != null) c.teacherEndpoint.apiKeyEnv = teacherKeyEnv;
        if (samples != null) c.samples = samples;
        if (beta != null) c.beta = beta;
        if (iterations != null) c.iterations = iterations;
        if (learningRate != null) c.learningRate = learningRate;
        if (batchSize != null) c.batchSize = batchSize;
        if (microBatch != null) c.microBatch = microBatch;
        if (softTargets != null) { c.softTargets = softTargets; if (softTargets && c.pairRule.equals("auto")) c.pairRule = "pairwise"; }
        if (device != null) c.device = device;
        if (threads != null) c.threads = threads;
        if (seed != null) c.seed = seed;
    }
}
