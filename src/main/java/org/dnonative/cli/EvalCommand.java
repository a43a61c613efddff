package org.dnonative.cli;

import org.bytedeco.pytorch.global.torch;
import org.dnonative.dno.DnoConfig;
import org.dnonative.dno.DnoRun;
import org.dnonative.dno.Progress;
import org.dnonative.dno.PromptFile;
import org.dnonative.dno.PromptRecord;
import org.dnonative.dno.Seeds;
import org.dnonative.dno.WinRates;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;
import org.dnonative.oracle.EquilibriumDistance;
import org.dnonative.oracle.OracleKind;
import org.dnonative.oracle.PreferenceOracle;
import org.dnonative.oracle.builtin.CyclicStyleOracle;
import org.dnonative.oracle.judge.JudgeConfig;
import org.dnonative.oracle.judge.OpenAiJudge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code eval}: the win-rate of one checkpoint against another on a prompt set, judged by an
 * oracle, with a 95% confidence interval over prompts.
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
    @Option(names = "--judge-api-key-env", defaultValue = "OPENAI_API_KEY")
    String judgeKeyEnv;
    @Option(names = "--judge-mode", defaultValue = "pairwise", description = "listwise or pairwise (default ${DEFAULT-VALUE})")
    String judgeMode;
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
            if (threads > 0) torch.set_num_threads(threads);
            List<String> promptTexts;
            if (prompts != null) {
                promptTexts = PromptFile.read(prompts).stream().map(PromptRecord::prompt).toList();
            } else {
                promptTexts = EmbeddedModel.tasks(new DnoConfig.Embedded()).prompts(builtinPrompts, seed);
            }
            DnoConfig c = new DnoConfig();
            c.topP = topP;
            c.maxNewTokens = maxNewTokens;
            c.chatTemplate = !raw;
            c.sampleBatch = 64;
            long sampleSeed = Seeds.derive(seed, 0, Seeds.Stage.EVAL);
            Map<String, List<String>> a = sample(c, modelA, promptTexts, sampleSeed), b = sample(c, modelB, promptTexts, sampleSeed);
            try (PreferenceOracle oracle = oracle()) {
                WinRates.Estimate e = WinRates.compare(oracle, promptTexts, a, b, allPairs);
                PrintWriter out = spec.commandLine().getOut();
                out.printf("win-rate of %s against %s: %.3f ± %.3f (95%% CI over %d prompts, %d comparisons, oracle %s)%n",
                        modelA, modelB, e.winRate(), e.ci95(), e.prompts(), e.comparisons(), oracle.name());
                if (oracle instanceof EquilibriumDistance d) {
                    out.printf("exploitability: A %.3f, B %.3f%n", d.exploitability(a), d.exploitability(b));
                }
                out.flush();
            }
            return 0;
        } catch (Exception e) {
            return PolicyOptions.handle(e, spec.commandLine().getErr());
        }
    }

    private Map<String, List<String>> sample(DnoConfig c, Path model, List<String> prompts, long sampleSeed) {
        try (Policy p = Policy.load(model, Policy.device(device))) {
            List<List<Completion>> all = DnoRun.generate(c, Progress.Mode.AUTO, p, prompts, samples, temperature, sampleSeed,
                    "sampling " + model.getFileName());
            Map<String, List<String>> out = new LinkedHashMap<>();
            for (int i = 0; i < prompts.size(); i++) out.put(prompts.get(i), all.get(i).stream().map(Completion::text).toList());
            return out;
        }
    }

    private PreferenceOracle oracle() {
        if (judgeUrl == null) return new CyclicStyleOracle(cycleStrength);
        if (judgeModel == null) throw new IllegalArgumentException("--judge-model is required with --judge-url");
        EnumSet<OracleKind> kinds = judgeMode.equals("listwise") ? EnumSet.of(OracleKind.LISTWISE) : EnumSet.of(OracleKind.PAIRWISE);
        return OpenAiJudge.open(JudgeConfig.builder(judgeUrl, judgeModel).apiKeyEnv(judgeKeyEnv)
                .requestTimeout(Duration.ofSeconds(120)).kinds(kinds).build());
    }
}
