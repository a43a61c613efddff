package org.dnonative.cli;

import org.dnonative.dno.OracleFactory;
import org.dnonative.dno.Preflight;
import org.dnonative.dno.Progress;
import org.dnonative.dno.PromptFile;
import org.dnonative.dno.PromptRecord;
import org.dnonative.dno.Seeds;
import org.dnonative.dno.WinRates;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.config.EvaluationConfig;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.dno.stage.Evaluation;
import org.dnonative.model.Policy;
import org.dnonative.oracle.PreferenceOracle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code eval}: the win-rate of one checkpoint against another on a prompt set, judged by an
 * oracle, with a 95% confidence interval over prompts: a run's evaluation stage
 * ({@link Evaluation}) on two given policies.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compares two checkpoints on a prompt set with an oracle: win-rate of A against B with a 95%% confidence interval.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-a", "--model"}, required = true, paramLabel = "DIR", description = "policy A (HuggingFace directory)")
    Path modelA;
    @Option(names = {"-b", "--against"}, required = true, paramLabel = "DIR", description = "policy B")
    Path modelB;
    @Option(names = "--prompts", paramLabel = "FILE.jsonl", description = "prompts (default: the built-in arithmetic tasks)")
    Path prompts;
    @Option(names = "--builtin-prompts", defaultValue = "64", description = "how many built-in prompts when no file is given (default ${DEFAULT-VALUE})")
    int builtinPrompts;
    @Option(names = "--judge-url", paramLabel = "URL", description = "an OpenAI-compatible judge (default: the built-in cyclic-style oracle)")
    String judgeUrl;
    @Option(names = "--judge-model")
    String judgeModel;
    @Option(names = "--judge-api-key-env", defaultValue = "OPENAI_API_KEY", description = "the variable with the judge's API key; '' for none")
    String judgeKeyEnv;
    @Option(names = "--judge-mode", defaultValue = "pairwise", description = "listwise or pairwise (default ${DEFAULT-VALUE})")
    String judgeMode;
    @Option(names = "--judge-cache", paramLabel = "DIR", description = "the judge's persistent judgment cache, so that a repeated "
            + "eval pays only for new comparisons (default: $XDG_CACHE_HOME/dno-native/oracle-cache, else ~/.cache/dno-native/oracle-cache)")
    Path judgeCache;
    @Option(names = {"-k", "--samples"}, defaultValue = "5", description = "samples per prompt and policy (default ${DEFAULT-VALUE})")
    int samples;
    @Option(names = "--temperature", defaultValue = "0.7")
    double temperature;
    @Option(names = "--top-p", defaultValue = "0.95")
    double topP;
    @Option(names = "--max-new-tokens", defaultValue = "256")
    int maxNewTokens;
    @Option(names = "--all-pairs", description = "compare every sample of A with every sample of B (default: sample i with sample i)")
    boolean allPairs;
    @Option(names = "--raw", description = "prompts as raw text, not through the chat template")
    boolean raw;
    @Option(names = "--cycle-strength", defaultValue = "0.25", description = "built-in oracle's cyclic preference strength")
    double cycleStrength;
    @Option(names = "--device", defaultValue = "cpu")
    String device;
    @Option(names = "--threads", defaultValue = "1")
    int threads;
    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Override
    public Integer call() throws Exception {
        try {
            // The settings as a run's configuration: validated by the same records, with the same messages.
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("device", device);
            o.put("threads", threads);
            o.put("seed", seed);
            o.put("sampling.top_p", topP);
            o.put("sampling.max_new_tokens", maxNewTokens);
            o.put("prompts.chat_template", !raw);
            o.put("evaluation.samples", samples);
            o.put("evaluation.temperature", temperature);
            o.put("evaluation.all_pairs", allPairs);
            o.put("oracle.cycle_strength", cycleStrength);
            if (judgeUrl != null) {
                if (judgeModel == null) throw new IllegalArgumentException("--judge-model is required with --judge-url");
                o.put("oracle.kind", "judge");
                o.put("oracle.judge.base_url", judgeUrl);
                o.put("oracle.judge.model", judgeModel);
                o.put("oracle.judge.api_key_env", judgeKeyEnv.isBlank() ? null : judgeKeyEnv);
                o.put("oracle.mode", judgeMode);
            }
            DnoConfig c = DnoConfig.defaults().with(o);
            // A wrong judge URL, model name or key fails here, before anything is sampled.
            Preflight.machine(c);
            if (judgeUrl != null) Preflight.endpoints(c, System::getenv);
            org.dnonative.model.Threads.configure(c.threads());
            List<String> promptTexts = prompts != null
                    ? PromptFile.read(prompts).stream().map(PromptRecord::prompt).toList()
                    : EmbeddedModel.tasks(c.embedded()).prompts(builtinPrompts, seed);
            EvaluationConfig e = c.evaluation();
            Evaluation evaluation = new Evaluation(e, c.sampling(), c.prompts().chatTemplate(), Progress.factory(Progress.Mode.AUTO));
            long sampleSeed = Seeds.derive(seed, 0, Seeds.Stage.EVAL);
            Map<String, List<String>> a = sample(evaluation, c, modelA, promptTexts, sampleSeed);
            Map<String, List<String>> b = sample(evaluation, c, modelB, promptTexts, sampleSeed);
            try (PreferenceOracle oracle = OracleFactory.open(c.oracle(), seed, judgeUrl == null ? null : cacheDir())) {
                WinRates.Estimate est = evaluation.compare(oracle, promptTexts, a, b);
                PrintWriter out = spec.commandLine().getOut();
                if (oracle.stats().unusable() > 0)
                    out.printf("%d of %d judgments unusable (left out)%n", oracle.stats().unusable(), oracle.stats().judgments());
                if (est.prompts() == 0)
                    out.printf("win-rate of %s against %s: none (no usable judgment, oracle %s)%n", modelA, modelB, oracle.name());
                else
                    out.printf("win-rate of %s against %s: %.3f ± %.3f (95%% CI over %d prompts, %d comparisons, oracle %s)%n",
                            modelA, modelB, est.winRate(), est.ci95(), est.prompts(), est.comparisons(), oracle.name());
                Map<String, Double> da = Evaluation.diagnostics(oracle, a), db = Evaluation.diagnostics(oracle, b);
                if (da.containsKey("exploitability") && db.containsKey("exploitability"))
                    out.printf("exploitability: A %.3f, B %.3f%n", da.get("exploitability"), db.get("exploitability"));
                out.flush();
            }
            return 0;
        } catch (Exception e) {
            return PolicyOptions.handle(e, spec.commandLine().getErr());
        }
    }

    /** The judgment cache: --judge-cache, else the user's cache directory (shared by every eval, keyed by what decides a judgment). */
    private Path cacheDir() {
        if (judgeCache != null) return judgeCache;
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("dno-native").resolve("oracle-cache");
    }

    private static Map<String, List<String>> sample(Evaluation evaluation, DnoConfig c, Path model, List<String> prompts, long seed) {
        try (Policy p = Policy.load(model, Policy.device(c.device()))) {
            return evaluation.sample(p, prompts, seed, "sampling " + model.getFileName());
        }
    }
}
