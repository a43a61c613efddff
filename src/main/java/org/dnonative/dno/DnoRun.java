package org.dnonative.dno;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;
import org.dnonative.model.SamplingParams;
import org.dnonative.model.Sampler;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceBatch;
import org.dnonative.model.SequenceScore;
import org.dnonative.oracle.Candidate;
import org.dnonative.oracle.EquilibriumDistance;
import org.dnonative.oracle.ListwiseJudgment;
import org.dnonative.oracle.ListwiseRequest;
import org.dnonative.oracle.OracleKind;
import org.dnonative.oracle.OracleStats;
import org.dnonative.oracle.PairwiseJudgment;
import org.dnonative.oracle.PairwiseRequest;
import org.dnonative.oracle.PreferenceOracle;
import org.dnonative.oracle.builtin.AnswerStyle;
import org.dnonative.oracle.builtin.ArithmeticTask;
import org.dnonative.oracle.builtin.ArithmeticTasks;
import org.dnonative.oracle.builtin.CyclicStyleOracle;
import org.dnonative.oracle.judge.JudgeConfig;
import org.dnonative.oracle.judge.OpenAiJudge;
import org.dnonative.train.PairLoss;
import org.dnonative.train.PolicyTrainer;
import org.dnonative.train.TrainOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * DNO's practical algorithm (Algorithm 2, "DNO-Prct"; Algorithm 1's soft targets as an option), one
 * iteration after another, with every stage's output kept in a {@link RunDirectory} so that a run
 * resumed after a crash finishes exactly as an uninterrupted one would.
 *
 * <p>Iteration 0 is the start: the embedded warm start (when no model is given) and the starting
 * policy's evaluation samples. Iteration t = 1..T runs the stages prompts (written once, for all
 * iterations, when the prompt set is split), samples, judgments, pairs, reference, train, eval and
 * metrics. Each stage reads only files of earlier stages and policies from disk, and draws its
 * randomness from {@link Seeds#derive}; on the CPU with a fixed libtorch thread count every stage is
 * bitwise reproducible, so redoing a stage gives the files it gave before.
 */
public final class DnoRun {
    private static final Logger LOG = LoggerFactory.getLogger("dno");

    public static final List<String> STAGES = List.of("samples", "judgments", "pairs", "reference", "train", "eval", "metrics");

    private final DnoConfig config;
    private final RunDirectory dir;
    private final StageHook hook;
    private final Progress.Mode progress;
    private final PrintWriter console;
    private final Device device;
    private PreferenceOracle oracle;

    public DnoRun(DnoConfig config, Path root, StageHook hook, Progress.Mode progress, PrintWriter console) {
        this.config = config;
        this.dir = new RunDirectory(root);
        this.hook = hook == null ? StageHook.NONE : hook;
        this.progress = progress;
        this.console = console;
        if (config.threads > 0) torch.set_num_threads(config.threads);
        this.device = Policy.device(config.device);
    }

    /** What a finished run reports. */
    public record Result(Path runDirectory, List<ObjectNode> metrics, int bestIteration, Path bestCheckpoint) {}

    /**
     * Starts a run in an empty (or missing) directory: writes the resolved configuration first.
     * Fails when the directory already holds something (use {@link #resume}).
     */
    public static DnoRun start(DnoConfig config, Path root, StageHook hook, Progress.Mode progress, PrintWriter console) {
        ConfigLoader.validate(config, null, null);
        // Read the inputs before anything is written, so a bad file leaves no half-made run behind.
        if (!config.usesBuiltinPrompts()) PromptFile.read(Path.of(config.prompts));
        if (config.evalPromptsFile != null && !config.evalPromptsFile.isBlank()) PromptFile.read(Path.of(config.evalPromptsFile));
        if (!config.usesEmbeddedModel() && !Files.isRegularFile(Path.of(config.model, "config.json")))
            throw new ConfigException("field 'model': " + config.model + " is not a HuggingFace model directory (no config.json)");
        if (!RunDirectory.isEmpty(root))
            throw new ConfigException(root + ": the run directory is not empty (use --resume " + root + " to continue that run)");
        RunDirectory.writeString(new RunDirectory(root).config(), ConfigLoader.mapper(false).valueToTree(config).toPrettyString() + "\n");
        return new DnoRun(config, root, hook, progress, console);
    }

    /** Continues the run in {@code root} with the configuration saved there. */
    public static DnoRun resume(Path root, StageHook hook, Progress.Mode progress, PrintWriter console) {
        return resume(root, c -> {}, 0, hook, progress, console);
    }

    /**
     * Continues the run in {@code root}. {@code environment} may change where it executes (device,
     * threads, the names of the API-key variables), not what it computes; those changes are not
     * saved. With {@code iterations} above the saved number (0: keep it) the run goes on for more
     * iterations: they cycle through the prompt parts made at the start (iteration t takes part
     * (t-1) mod parts + 1), and the new count is saved in config.json. Iterations already done are
     * not touched, so an extended run is not the run that a larger count from the start would give.
     */
    public static DnoRun resume(Path root, java.util.function.Consumer<DnoConfig> environment, int iterations,
                                StageHook hook, Progress.Mode progress, PrintWriter console) {
        Path cfg = new RunDirectory(root).config();
        if (!Files.exists(cfg)) throw new ConfigException(root + ": not a run directory (no config.json)");
        ConfigLoader.Loaded loaded = ConfigLoader.load(cfg);
        DnoConfig config = loaded.config();
        environment.accept(config);
        ConfigLoader.validate(config, cfg, loaded.lines());
        if (iterations != 0 && iterations != config.iterations) {
            if (iterations < config.iterations)
                throw new ConfigException("--iterations " + iterations + " on --resume: the run has " + config.iterations
                        + " iterations planned; a resumed run can have more, not fewer");
            DnoConfig saved = ConfigLoader.load(cfg).config();  // without the environment's changes
            saved.iterations = iterations;
            config.iterations = iterations;
            RunDirectory.writeString(cfg, ConfigLoader.mapper(false).valueToTree(saved).toPrettyString() + "\n");
        }
        return new DnoRun(config, root, hook, progress, console);
    }

    public DnoConfig config() { return config; }
    public RunDirectory directory() { return dir; }

    public Result run() {
        long started = System.nanoTime();
        try {
            oracle = openOracle();
            split();
            start();
            for (int t = 1; t <= config.iterations; t++) iteration(t);
        } finally {
            if (oracle != null) oracle.close();
        }
        List<ObjectNode> metrics = writeMetrics(config.iterations);
        int best = 0;
        double bestRate = Double.NEGATIVE_INFINITY;
        for (ObjectNode m : metrics) {
            double r = m.path("winrate_vs_start").asDouble(Double.NaN);
            if (r > bestRate) { bestRate = r; best = m.get("iteration").asInt(); }
        }
        Path bestCheckpoint = policyDir(best + 1);
        ObjectNode b = RunDirectory.JSON.createObjectNode();
        b.put("iteration", best);
        Path abs = bestCheckpoint.toAbsolutePath().normalize(), rootAbs = dir.root().toAbsolutePath().normalize();
        b.put("checkpoint", abs.startsWith(rootAbs) ? rootAbs.relativize(abs).toString() : abs.toString());
        b.put("winrate_vs_start", bestRate);
        RunDirectory.writeJson(dir.root().resolve("best.json"), b);
        String table = Summary.table(metrics, best);
        RunDirectory.writeString(dir.root().resolve("summary.txt"), table);
        Summary.plot(metrics, dir.root().resolve("plot.png"));
        if (console != null) {
            console.println();
            console.print(table);
            console.printf("best iterate: iteration %d (%s)%n", best, bestCheckpoint);
            console.printf("run directory: %s (plot.png, metrics.jsonl)  wall time: %.1f s%n", dir.root(),
                    (System.nanoTime() - started) / 1e9);
            console.flush();
        }
        return new Result(dir.root(), metrics, best, bestCheckpoint);
    }

    // ------------------------------------------------------------------ oracle, prompts, teacher

    private PreferenceOracle openOracle() {
        if (config.oracle.equals("builtin")) return new CyclicStyleOracle(config.embedded.cycleStrength);
        DnoConfig.Judge j = config.judge;
        Set<OracleKind> kinds = switch (j.mode) {
            case "pairwise" -> EnumSet.of(OracleKind.PAIRWISE);
            case "both" -> EnumSet.of(OracleKind.LISTWISE, OracleKind.PAIRWISE);
            default -> EnumSet.of(OracleKind.LISTWISE);
        };
        JudgeConfig jc = JudgeConfig.builder(j.baseUrl, j.model).apiKeyEnv(j.apiKeyEnv)
                .requestTimeout(Duration.ofMillis((long) (j.timeoutSeconds * 1000))).concurrency(j.concurrency)
                .kinds(kinds).shuffleSeed(config.seed).cacheDir(dir.oracleCache()).build();
        return OpenAiJudge.open(jc);
    }

    private boolean listwiseRule() {
        return switch (config.pairRule) {
            case "listwise" -> true;
            case "pairwise" -> false;
            default -> oracle.answers(OracleKind.LISTWISE) && !config.softTargets;
        };
    }

    /**
     * Asks the teacher endpoint for the gold response of every prompt that has none. Runs inside
     * the split stage, whose files are written once, so a resumed run never asks again.
     */
    private List<PromptRecord> withTeacherResponses(List<PromptRecord> all) {
        DnoConfig.Judge t = config.teacherEndpoint;
        org.dnonative.oracle.judge.OpenAiTeacher teacher = new org.dnonative.oracle.judge.OpenAiTeacher(t.baseUrl, t.model,
                t.apiKeyEnv, java.time.Duration.ofMillis((long) (t.timeoutSeconds * 1000)), t.concurrency, 0.0, 1024,
                org.dnonative.oracle.judge.RetryPolicy.defaults(), System::getenv);
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) if (all.get(i).gold() == null) missing.add(i);
        List<String> answers = teacher.respond(missing.stream().map(i -> all.get(i).prompt()).toList());
        List<PromptRecord> out = new ArrayList<>(all);
        int failed = 0;
        for (int k = 0; k < missing.size(); k++) {
            if (answers.get(k) == null) failed++;
            else out.set(missing.get(k), new PromptRecord(all.get(missing.get(k)).prompt(), answers.get(k)));
        }
        if (failed > 0) console.println("teacher: no usable answer for " + failed + " of " + missing.size() + " prompts (they get no gold response)");
        return out;
    }

    /** Splits the prompt set once: held-out evaluation prompts and one part per iteration. */
    private void split() {
        if (dir.isDone(0, "split")) return;
        List<PromptRecord> all;
        if (config.usesBuiltinPrompts()) {
            ArithmeticTasks tasks = EmbeddedModel.tasks(config.embedded);
            Random teacher = new Random(Seeds.derive(config.seed, 0, Seeds.Stage.TEACHER));
            all = new ArrayList<>();
            boolean gold = !config.teacher.equals("none") && !config.teacher.equals("endpoint");
            for (ArithmeticTask task : tasks.shuffled(Seeds.derive(config.seed, 0, Seeds.Stage.SPLIT))) {
                AnswerStyle style = AnswerStyle.values()[teacher.nextInt(AnswerStyle.values().length)];
                all.add(new PromptRecord(task.prompt(), gold ? style.render(task) : null));
            }
        } else {
            all = new ArrayList<>(PromptFile.read(Path.of(config.prompts)));
            Collections.shuffle(all, new Random(Seeds.derive(config.seed, 0, Seeds.Stage.SPLIT)));
            if (config.teacher.equals("none")) all.replaceAll(r -> new PromptRecord(r.prompt(), null));
        }
        if (config.teacher.equals("endpoint")) all = withTeacherResponses(all);
        List<PromptRecord> eval;
        List<PromptRecord> train;
        if (config.evalPromptsFile != null && !config.evalPromptsFile.isBlank()) {
            eval = PromptFile.read(Path.of(config.evalPromptsFile));
            train = all;
        } else {
            if (config.evalPrompts >= all.size())
                throw new ConfigException("field 'eval_prompts' (" + config.evalPrompts + ") leaves no training prompts out of " + all.size());
            eval = all.subList(0, config.evalPrompts);
            train = all.subList(config.evalPrompts, all.size());
        }
        int per = config.promptsPerIteration > 0 ? config.promptsPerIteration : train.size() / config.iterations;
        if (per < 1 || (long) per * config.iterations > train.size())
            throw new ConfigException("not enough prompts: " + train.size() + " training prompts for " + config.iterations
                    + " iterations of " + Math.max(per, 1) + " (field 'prompts_per_iteration' or 'iterations')");
        RunDirectory.writeJsonl(dir.evalPrompts(), eval.stream().map(DnoRun::promptNode).toList());
        for (int t = 1; t <= config.iterations; t++) {
            List<PromptRecord> part = train.subList((t - 1) * per, t * per);
            RunDirectory.writeJsonl(dir.file(t, "prompts.jsonl"), part.stream().map(DnoRun::promptNode).toList());
        }
        ObjectNode split = RunDirectory.JSON.createObjectNode();
        split.put("parts", config.iterations);
        split.put("prompts_per_part", per);
        RunDirectory.writeJson(dir.file(0, "split.json"), split);
        finish(0, "split");
    }

    /**
     * The prompts of iteration t: its own part of the split, or, for an iteration added on
     * --resume beyond the parts, a copy of part (t-1) mod parts + 1.
     */
    private Path promptsOf(int t) {
        Path own = dir.file(t, "prompts.jsonl");
        if (Files.exists(own)) return own;
        Path splitFile = dir.file(0, "split.json");
        if (!Files.exists(splitFile)) {
            // A run directory from before split.json: its parts are the consecutive files, counted
            // (and recorded) before any copy is added.
            int parts = 0;
            while (Files.exists(dir.file(parts + 1, "prompts.jsonl"))) parts++;
            RunDirectory.writeJson(splitFile, RunDirectory.JSON.createObjectNode().put("parts", parts));
        }
        int parts = RunDirectory.readJson(splitFile).path("parts").asInt();
        if (parts < 1) throw new ConfigException(dir.root() + ": no prompt parts to run iteration " + t + " on");
        RunDirectory.writeJsonl(own, RunDirectory.readJsonl(dir.file((t - 1) % parts + 1, "prompts.jsonl")));
        return own;
    }

    private static ObjectNode promptNode(PromptRecord r) {
        ObjectNode n = RunDirectory.JSON.createObjectNode();
        n.put("prompt", r.prompt());
        if (r.gold() != null) n.put("gold", r.gold());
        return n;
    }

    private static List<PromptRecord> readPrompts(Path file) {
        List<PromptRecord> out = new ArrayList<>();
        for (ObjectNode n : RunDirectory.readJsonl(file)) out.add(new PromptRecord(n.get("prompt").asText(), n.hasNonNull("gold") ? n.get("gold").asText() : null));
        return out;
    }

    private void finish(int t, String stage) {
        hook.beforeMarker(t, stage);
        dir.markDone(t, stage);
    }

    // ------------------------------------------------------------------ policies

    /** The directory of pi_t: the given model (or the embedded warm start) for t = 1, else iteration t-1's checkpoint. */
    Path policyDir(int t) {
        if (t <= 1) return config.usesEmbeddedModel() ? dir.checkpoint(0) : Path.of(config.model);
        return dir.checkpoint(t - 1);
    }

    private Policy loadPolicy(int t) {
        return Policy.load(policyDir(t), device);
    }

    private int[] encodePrompt(Policy policy, String prompt) {
        return encodePrompt(config, policy, prompt);
    }

    /** The prompt's token ids: through the chat template unless the configuration says raw (or the model has none). */
    public static int[] encodePrompt(DnoConfig config, Policy policy, String prompt) {
        return config.chatTemplate && policy.chatTemplate() != null ? policy.encodeUserPrompt(prompt) : policy.tokenizer().encode(prompt);
    }

    private int[] encodeResponse(Policy policy, String text) {
        int[] ids = policy.tokenizer().encode(text);
        if (policy.eosIds().isEmpty()) return ids;
        int eos = policy.model().config().eosTokenIds().isEmpty() ? policy.eosIds().iterator().next() : policy.model().config().eosTokenIds().get(0);
        int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos;
        return out;
    }

    // ------------------------------------------------------------------ iteration 0: the start

    private void start() {
        if (config.usesEmbeddedModel() && !dir.isDone(0, "sft")) {
            say("warm start: supervised fine-tuning of the embedded %d-layer policy on imperfect demonstrations (%d steps)",
                    config.embedded.layers, config.embedded.sftSteps);
            long t0 = System.nanoTime();
            double loss;
            try (Policy p = EmbeddedModel.randomPolicy(config.embedded, device);
                 Progress bar = Progress.start(progress, "warm start", config.embedded.sftSteps)) {
                loss = EmbeddedModel.warmStart(p, config.embedded, Seeds.derive(config.seed, 0, Seeds.Stage.SFT), s -> bar.step(1));
                RunDirectory.writeDirectory(dir.checkpoint(0), d -> p.save(d, config.saveDtype));
            }
            ObjectNode sft = RunDirectory.JSON.createObjectNode();
            sft.put("sft_loss", loss);
            sft.put("sft_steps", config.embedded.sftSteps);
            sft.putObject("seconds").put("sft", (System.nanoTime() - t0) / 1e9);
            RunDirectory.writeJson(dir.file(0, "sft.json"), sft);
            finish(0, "sft");
        }
        if (!dir.isDone(0, "eval")) {
            long t0 = System.nanoTime();
            List<String> prompts = evalPromptTexts();
            Map<String, List<String>> samples;
            try (Policy p = loadPolicy(1)) {
                samples = sampleEval(p, prompts, "evaluating pi_1");
            }
            writeSamples(dir.file(0, "eval_samples.jsonl"), samples);
            ObjectNode e = RunDirectory.JSON.createObjectNode();
            e.put("winrate_vs_prev", 0.5);
            e.put("winrate_vs_start", 0.5);
            equilibrium(samples, e);
            e.putObject("seconds").put("eval", (System.nanoTime() - t0) / 1e9);
            RunDirectory.writeJson(dir.file(0, "eval.json"), e);
            finish(0, "eval");
        }
        if (!dir.isDone(0, "metrics")) {
            ObjectNode m = RunDirectory.JSON.createObjectNode();
            m.put("iteration", 0);
            m.put("pairs", 0);
            m.putNull("loss");
            m.putNull("reward_margin");
            merge(m, dir.file(0, "sft.json"));
            merge(m, dir.file(0, "eval.json"));
            RunDirectory.writeJson(dir.file(0, "metrics.json"), m);
            writeMetrics(0);
            finish(0, "metrics");
        }
    }

    private void say(String format, Object... args) {
        String s = String.format(format, args);
        LOG.info(s);
    }

    // ------------------------------------------------------------------ iteration t

    private void iteration(int t) {
        if (dir.isDone(t, "metrics")) return;
        say("iteration %d of %d", t, config.iterations);
        Map<String, Double> seconds = new LinkedHashMap<>();
        if (!dir.isDone(t, "samples")) timed(seconds, "samples", () -> sample(t));
        if (!dir.isDone(t, "judgments")) timed(seconds, "judgments", () -> judge(t));
        if (!dir.isDone(t, "pairs")) timed(seconds, "pairs", () -> pairs(t));
        if (!dir.isDone(t, "reference")) timed(seconds, "reference", () -> reference(t));
        if (!dir.isDone(t, "train")) timed(seconds, "train", () -> train(t));
        if (!dir.isDone(t, "eval")) timed(seconds, "eval", () -> evaluate(t));
        ObjectNode m = RunDirectory.JSON.createObjectNode();
        m.put("iteration", t);
        merge(m, dir.file(t, "pairs.json"));
        merge(m, dir.file(t, "train.json"));
        merge(m, dir.file(t, "judgments.json"));
        merge(m, dir.file(t, "eval.json"));
        ObjectNode sec = m.putObject("seconds");
        seconds.forEach(sec::put);
        RunDirectory.writeJson(dir.file(t, "metrics.json"), m);
        writeMetrics(t);
        finish(t, "metrics");
        ObjectNode last = m;
        say("iteration %d: %d pairs, loss %.4f, reward margin %.4f, win-rate vs previous %.3f, vs start %.3f%s", t,
                last.path("pairs").asInt(), last.path("loss").asDouble(Double.NaN), last.path("reward_margin").asDouble(Double.NaN),
                last.path("winrate_vs_prev").asDouble(Double.NaN), last.path("winrate_vs_start").asDouble(Double.NaN),
                last.has("exploitability") ? String.format(", exploitability %.3f", last.path("exploitability").asDouble()) : "");
    }

    private static void timed(Map<String, Double> seconds, String stage, Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        seconds.put(stage, (System.nanoTime() - t0) / 1e9);
    }

    private static void merge(ObjectNode into, Path file) {
        if (!Files.exists(file)) return;
        RunDirectory.readJson(file).fields().forEachRemaining(e -> {
            if (e.getKey().equals("seconds")) {
                ObjectNode s = into.has("seconds") ? (ObjectNode) into.get("seconds") : into.putObject("seconds");
                e.getValue().fields().forEachRemaining(x -> s.set(x.getKey(), x.getValue()));
            } else {
                into.set(e.getKey(), e.getValue());
            }
        });
    }

    /** metrics.jsonl from every finished iteration's metrics.json up to {@code upTo}, rewritten atomically. */
    private List<ObjectNode> writeMetrics(int upTo) {
        List<ObjectNode> lines = new ArrayList<>();
        for (int t = 0; t <= upTo; t++) {
            Path f = dir.file(t, "metrics.json");
            if (Files.exists(f)) lines.add(RunDirectory.readJson(f));
        }
        RunDirectory.writeJsonl(dir.metrics(), lines);
        return lines;
    }

    // samples: K samples of pi_t per prompt, plus the teacher's gold response
    private void sample(int t) {
        List<PromptRecord> prompts = readPrompts(promptsOf(t));
        List<ObjectNode> lines = new ArrayList<>();
        try (Policy p = loadPolicy(t)) {
            List<List<Completion>> all = generate(p, prompts.stream().map(PromptRecord::prompt).toList(), config.samples,
                    config.temperature, Seeds.derive(config.seed, t, Seeds.Stage.SAMPLE), "sampling pi_" + t);
            for (int i = 0; i < prompts.size(); i++) {
                PromptRecord r = prompts.get(i);
                ObjectNode line = RunDirectory.JSON.createObjectNode();
                line.put("prompt", r.prompt());
                ArrayNode cands = line.putArray("candidates");
                for (Completion c : all.get(i)) {
                    ObjectNode n = cands.addObject();
                    n.put("origin", "sample");
                    n.put("text", c.text());
                    n.put("finish", c.finishReason());
                    ArrayNode ids = n.putArray("ids");
                    for (int id : c.ids()) ids.add(id);
                }
                if (r.gold() != null) {
                    ObjectNode n = cands.addObject();
                    n.put("origin", "gold");
                    n.put("text", r.gold());
                    ArrayNode ids = n.putArray("ids");
                    for (int id : encodeResponse(p, r.gold())) ids.add(id);
                }
                lines.add(line);
            }
        }
        RunDirectory.writeJsonl(dir.file(t, "samples.jsonl"), lines);
        finish(t, "samples");
    }

    private List<List<Completion>> generate(Policy p, List<String> prompts, int k, double temperature, long seed, String task) {
        return generate(config, progress, p, prompts, k, temperature, seed, task);
    }

    /** K samples per prompt, in chunks of {@code sample_batch} sequences, with a progress bar. */
    public static List<List<Completion>> generate(DnoConfig config, Progress.Mode progress, Policy p, List<String> prompts, int k,
                                                  double temperature, long seed, String task) {
        List<List<Completion>> out = new ArrayList<>();
        int chunk = Math.max(1, config.sampleBatch / k);
        try (Progress bar = Progress.start(progress, task, prompts.size())) {
            for (int from = 0; from < prompts.size(); from += chunk) {
                int to = Math.min(prompts.size(), from + chunk);
                List<int[]> ids = new ArrayList<>();
                for (String s : prompts.subList(from, to)) ids.add(encodePrompt(config, p, s));
                SamplingParams sp = new SamplingParams(k, temperature, config.topP, config.topK, config.maxNewTokens, List.of(),
                        seed + from, config.sampleBatch);
                out.addAll(new Sampler(p).generate(ids, sp));
                bar.step(to - from);
            }
        }
        return out;
    }

    private record Annotated(String prompt, List<PairRules.Candidate> candidates, List<int[]> ids) {}

    private List<Annotated> readSamples(int t) {
        List<Annotated> out = new ArrayList<>();
        for (ObjectNode line : RunDirectory.readJsonl(dir.file(t, "samples.jsonl"))) {
            List<PairRules.Candidate> c = new ArrayList<>();
            List<int[]> ids = new ArrayList<>();
            for (JsonNode n : line.get("candidates")) {
                c.add(new PairRules.Candidate(n.get("text").asText(), n.get("origin").asText().equals("gold")));
                int[] x = new int[n.get("ids").size()];
                for (int i = 0; i < x.length; i++) x[i] = n.get("ids").get(i).asInt();
                ids.add(x);
            }
            out.add(new Annotated(line.get("prompt").asText(), c, ids));
        }
        return out;
    }

    private static List<Candidate> oracleCandidates(List<PairRules.Candidate> c) {
        return c.stream().map(x -> x.gold() ? Candidate.gold(x.text()) : Candidate.sample(x.text())).toList();
    }

    // judgments: the oracle annotates every prompt's candidates
    private void judge(int t) {
        List<Annotated> samples = readSamples(t);
        OracleStats before = oracle.stats();
        List<ObjectNode> lines = new ArrayList<>();
        int chunk = 16;
        try (Progress bar = Progress.start(progress, "annotating", samples.size())) {
            for (int from = 0; from < samples.size(); from += chunk) {
                List<Annotated> part = samples.subList(from, Math.min(samples.size(), from + chunk));
                if (listwiseRule()) {
                    List<ListwiseRequest> req = part.stream().map(a -> new ListwiseRequest(a.prompt(), oracleCandidates(a.candidates()))).toList();
                    List<ListwiseJudgment> res = oracle.scoreAll(req);
                    for (int i = 0; i < part.size(); i++) {
                        ObjectNode n = RunDirectory.JSON.createObjectNode();
                        n.put("prompt", part.get(i).prompt());
                        n.put("status", res.get(i).status().name());
                        ArrayNode s = n.putArray("scores");
                        res.get(i).scores().forEach(s::add);
                        if (!res.get(i).detail().isEmpty()) n.put("detail", res.get(i).detail());
                        lines.add(n);
                    }
                } else {
                    List<PairwiseRequest> req = new ArrayList<>();
                    for (Annotated a : part) {
                        List<Candidate> c = oracleCandidates(a.candidates());
                        for (int i = 0; i < c.size(); i++) for (int j = i + 1; j < c.size(); j++) req.add(new PairwiseRequest(a.prompt(), c.get(i), c.get(j)));
                    }
                    List<PairwiseJudgment> res = oracle.compareAll(req);
                    int k = 0;
                    for (Annotated a : part) {
                        int n = a.candidates().size();
                        double[][] pref = new double[n][n];
                        boolean ok = true;
                        for (int i = 0; i < n; i++) {
                            pref[i][i] = 0.5;
                            for (int j = i + 1; j < n; j++) {
                                PairwiseJudgment pj = res.get(k++);
                                ok &= pj.isUsable();
                                pref[i][j] = pj.isUsable() ? pj.probabilityFirstWins() : Double.NaN;
                                pref[j][i] = 1 - pref[i][j];
                            }
                        }
                        ObjectNode node = RunDirectory.JSON.createObjectNode();
                        node.put("prompt", a.prompt());
                        node.put("status", ok ? "OK" : "UNUSABLE");
                        ArrayNode rows = node.putArray("preference");
                        for (double[] row : pref) {
                            ArrayNode r = rows.addArray();
                            for (double v : row) r.add(v);
                        }
                        lines.add(node);
                    }
                }
                bar.step(part.size());
            }
        }
        RunDirectory.writeJsonl(dir.file(t, "judgments.jsonl"), lines);
        ObjectNode stats = RunDirectory.JSON.createObjectNode();
        oracle.stats().minus(before).asMetrics("oracle_").forEach((k, v) -> {
            if (!k.equals("oracle_cache_hits")) stats.put(k, v); // cache hits differ between a resumed and a fresh run
        });
        stats.put("oracle_unusable_prompts", lines.stream().filter(l -> !l.get("status").asText().equals("OK")).count());
        RunDirectory.writeJson(dir.file(t, "judgments.json"), stats);
        finish(t, "judgments");
    }

    // pairs: the pair rule on this iteration's judgments, then replay from earlier iterations
    private void pairs(int t) {
        List<Annotated> samples = readSamples(t);
        List<ObjectNode> judgments = RunDirectory.readJsonl(dir.file(t, "judgments.jsonl"));
        List<Pair> fresh = new ArrayList<>();
        PairRules.ListwiseRule rule = PairRules.ListwiseRule.of(config);
        for (int i = 0; i < samples.size(); i++) {
            Annotated a = samples.get(i);
            ObjectNode j = judgments.get(i);
            if (!j.get("status").asText().equals("OK")) continue;
            List<PairRules.Choice> choices;
            if (j.has("scores")) {
                List<Double> scores = new ArrayList<>();
                j.get("scores").forEach(s -> scores.add(s.asDouble()));
                choices = PairRules.listwise(a.candidates(), scores, rule);
            } else {
                int n = a.candidates().size();
                double[][] pref = new double[n][n];
                for (int x = 0; x < n; x++) for (int y = 0; y < n; y++) pref[x][y] = j.get("preference").get(x).get(y).asDouble();
                PairRules.Choice c = PairRules.pairwise(a.candidates(), pref, config.pairwiseMargin, config.softTargets);
                choices = c == null ? List.of() : List.of(c);
            }
            for (PairRules.Choice c : choices) {
                PairRules.Candidate w = a.candidates().get(c.winner()), l = a.candidates().get(c.loser());
                String kind = j.has("scores") ? (w.gold() ? "gold" : "sample") + ">" + (l.gold() ? "gold" : "sample") : "pairwise";
                fresh.add(new Pair(a.prompt(), w.text(), a.ids().get(c.winner()), l.text(), a.ids().get(c.loser()), c.target(), kind, t));
            }
        }
        List<List<Pair>> earlier = new ArrayList<>();
        for (int s = t - 1; s >= 1; s--) earlier.add(readPairs(dir.file(s, "pairs.jsonl")));
        List<Pair> replay = Replay.select(earlier, fresh.size(), config.replayFraction, config.replayDecay,
                Seeds.derive(config.seed, t, Seeds.Stage.REPLAY));
        List<Pair> train = new ArrayList<>(fresh);
        train.addAll(replay);
        writePairs(dir.file(t, "pairs.jsonl"), fresh);
        writePairs(dir.file(t, "train_pairs.jsonl"), train);
        ObjectNode m = RunDirectory.JSON.createObjectNode();
        m.put("pairs", train.size());
        m.put("pairs_new", fresh.size());
        m.put("pairs_replayed", replay.size());
        m.put("prompts_with_pairs", fresh.stream().map(Pair::prompt).distinct().count());
        for (String kind : List.of("sample>sample", "sample>gold", "gold>sample", "pairwise")) {
            long n = fresh.stream().filter(p -> p.kind().equals(kind)).count();
            if (n > 0) m.put("pairs_" + kind.replace('>', '_'), n);
        }
        RunDirectory.writeJson(dir.file(t, "pairs.json"), m);
        if (fresh.isEmpty()) LOG.warn("iteration {}: the pair rule found no pairs", t);
        finish(t, "pairs");
    }

    static void writePairs(Path file, List<Pair> pairs) {
        List<ObjectNode> lines = new ArrayList<>();
        for (Pair p : pairs) {
            ObjectNode n = RunDirectory.JSON.createObjectNode();
            n.put("prompt", p.prompt());
            n.put("chosen", p.chosen());
            n.put("rejected", p.rejected());
            ArrayNode c = n.putArray("chosen_ids");
            for (int id : p.chosenIds()) c.add(id);
            ArrayNode r = n.putArray("rejected_ids");
            for (int id : p.rejectedIds()) r.add(id);
            if (p.target() == null) n.putNull("target"); else n.put("target", p.target());
            n.put("kind", p.kind());
            n.put("iteration", p.iteration());
            lines.add(n);
        }
        RunDirectory.writeJsonl(file, lines);
    }

    static List<Pair> readPairs(Path file) {
        List<Pair> out = new ArrayList<>();
        for (ObjectNode n : RunDirectory.readJsonl(file)) {
            out.add(new Pair(n.get("prompt").asText(), n.get("chosen").asText(), ints(n.get("chosen_ids")), n.get("rejected").asText(),
                    ints(n.get("rejected_ids")), n.get("target").isNull() ? null : n.get("target").asDouble(), n.get("kind").asText(),
                    n.get("iteration").asInt()));
        }
        return out;
    }

    private static int[] ints(JsonNode a) {
        int[] x = new int[a.size()];
        for (int i = 0; i < x.length; i++) x[i] = a.get(i).asInt();
        return x;
    }

    // reference: log pi_t(y|x) of every training pair, pi_t frozen, before any training
    private void reference(int t) {
        List<Pair> pairs = readPairs(dir.file(t, "train_pairs.jsonl"));
        List<ObjectNode> lines = new ArrayList<>();
        try (Policy p = loadPolicy(t)) {
            double[][] ref = referenceLogprobs(p, pairs);
            for (int i = 0; i < pairs.size(); i++) {
                ObjectNode n = RunDirectory.JSON.createObjectNode();
                n.put("chosen", ref[0][i]);
                n.put("rejected", ref[1][i]);
                lines.add(n);
            }
        }
        RunDirectory.writeJsonl(dir.file(t, "ref_logps.jsonl"), lines);
        finish(t, "reference");
    }

    /** [0] chosen, [1] rejected sequence log-probs under {@code policy}, without grad. */
    double[][] referenceLogprobs(Policy policy, List<Pair> pairs) {
        double[][] out = new double[2][pairs.size()];
        Scorer scorer = new Scorer(policy.model(), policy.padId(), config.scoreTokenBudget);
        int chunk = 256;
        try (Progress bar = Progress.start(progress, "reference log-probs", pairs.size())) {
            for (int from = 0; from < pairs.size(); from += chunk) {
                List<Pair> part = pairs.subList(from, Math.min(pairs.size(), from + chunk));
                List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
                for (Pair q : part) { prompts.add(encodePrompt(policy, q.prompt())); responses.add(q.chosenIds()); }
                for (Pair q : part) { prompts.add(encodePrompt(policy, q.prompt())); responses.add(q.rejectedIds()); }
                List<SequenceScore> s = scorer.score(prompts, responses);
                for (int i = 0; i < part.size(); i++) {
                    out[0][from + i] = s.get(i).logprob();
                    out[1][from + i] = s.get(part.size() + i).logprob();
                }
                bar.step(part.size());
            }
        }
        return out;
    }

    // train: pi_{t+1} from pi_t's weights, at most one epoch, batch through accumulation
    private void train(int t) {
        List<Pair> pairs = readPairs(dir.file(t, "train_pairs.jsonl"));
        List<ObjectNode> refLines = RunDirectory.readJsonl(dir.file(t, "ref_logps.jsonl"));
        Integer[] order = new Integer[pairs.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        List<Integer> shuffled = new ArrayList<>(List.of(order));
        Collections.shuffle(shuffled, new Random(Seeds.derive(config.seed, t, Seeds.Stage.TRAIN)));
        int used = (int) Math.floor(config.epochs * pairs.size() + 1e-9);
        shuffled = shuffled.subList(0, used);
        int steps = (used + config.batchSize - 1) / config.batchSize;
        double lr = config.learningRate * Math.pow(config.learningRateDecay, t - 1);
        ObjectNode m = RunDirectory.JSON.createObjectNode();
        try (Policy p = loadPolicy(t)) {
            if (steps > 0) {
                TrainOptions options = TrainOptions.adamW(lr, (int) Math.floor(config.warmupRatio * steps), steps,
                        config.weightDecay, config.maxGradNorm);
                double lossSum = 0, marginSum = 0, correct = 0;
                try (PolicyTrainer trainer = new PolicyTrainer(p.model(), options);
                     PairLoss loss = PairLoss.create(lossKind(config.loss), Math.max(0, config.threads));
                     Progress bar = Progress.start(progress, "training pi_" + (t + 1), used)) {
                    for (int s = 0; s < steps; s++) {
                        List<Integer> batch = shuffled.subList(s * config.batchSize, Math.min(used, (s + 1) * config.batchSize));
                        for (int from = 0; from < batch.size(); from += config.microBatch) {
                            List<Integer> micro = batch.subList(from, Math.min(batch.size(), from + config.microBatch));
                            PolicyTrainer.MicroResult r = microStep(p, trainer, loss, pairs, refLines, micro, (double) micro.size() / batch.size());
                            lossSum += r.loss() * micro.size();
                            marginSum += r.rewardMargin() * micro.size();
                            correct += r.accuracy() * micro.size();
                            bar.step(micro.size());
                        }
                        PolicyTrainer.StepResult sr = trainer.step();
                        m.put("last_lr", sr.learningRate());
                    }
                }
                m.put("loss", lossSum / used);
                m.put("reward_margin", marginSum / used);
                m.put("reward_accuracy", correct / used);
            } else {
                m.putNull("loss");
                m.putNull("reward_margin");
            }
            m.put("steps", steps);
            m.put("learning_rate", lr);
            RunDirectory.writeDirectory(dir.checkpoint(t), d -> p.save(d, config.saveDtype));
        }
        RunDirectory.writeJson(dir.file(t, "train.json"), m);
        finish(t, "train");
    }

    /** config.loss ("native", "fused" or "libtorch", checked by the config) as the loss kind. */
    private static PairLoss.Kind lossKind(String name) {
        return switch (name) {
            case "fused" -> PairLoss.Kind.FUSED;
            case "libtorch" -> PairLoss.Kind.LIBTORCH;
            default -> PairLoss.Kind.NATIVE;
        };
    }

    /** One micro-batch: forward, DNO loss, backward weighted by its share of the optimizer step. */
    private PolicyTrainer.MicroResult microStep(Policy p, PolicyTrainer trainer, PairLoss loss, List<Pair> pairs, List<ObjectNode> ref,
                                                List<Integer> micro, double weight) {
        int n = micro.size();
        List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
        float[] refs = new float[2 * n];
        float[] targets = null;
        boolean soft = false;
        for (int idx : micro) soft |= pairs.get(idx).target() != null;
        if (soft) targets = new float[n];
        for (int i = 0; i < n; i++) {
            Pair q = pairs.get(micro.get(i));
            prompts.add(encodePrompt(p, q.prompt()));
            responses.add(q.chosenIds());
            refs[i] = (float) ref.get(micro.get(i)).get("chosen").asDouble();
            refs[n + i] = (float) ref.get(micro.get(i)).get("rejected").asDouble();
            if (soft) targets[i] = q.target() == null ? 1f : q.target().floatValue();
        }
        for (int i = 0; i < n; i++) {
            prompts.add(prompts.get(i));
            responses.add(pairs.get(micro.get(i)).rejectedIds());
        }
        try (PointerScope scope = new PointerScope();
             SequenceBatch batch = new SequenceBatch(prompts, responses, p.padId(), p.model().device())) {
            return trainer.accumulate(loss, batch, refs, targets, config.beta, weight);
        }
    }

    // eval: pi_{t+1} against pi_t and pi_1 on the held-out prompts
    private void evaluate(int t) {
        List<String> prompts = evalPromptTexts();
        Map<String, List<String>> samples;
        try (Policy p = Policy.load(dir.checkpoint(t), device)) {
            samples = sampleEval(p, prompts, "evaluating pi_" + (t + 1));
        }
        writeSamples(dir.file(t, "eval_samples.jsonl"), samples);
        Map<String, List<String>> prev = readSamplesMap(dir.file(t - 1, "eval_samples.jsonl"));
        Map<String, List<String>> start = readSamplesMap(dir.file(0, "eval_samples.jsonl"));
        WinRates.Estimate vsPrev = WinRates.compare(oracle, prompts, samples, prev, config.evalAllPairs);
        WinRates.Estimate vsStart = WinRates.compare(oracle, prompts, samples, start, config.evalAllPairs);
        ObjectNode e = RunDirectory.JSON.createObjectNode();
        e.put("winrate_vs_prev", vsPrev.winRate());
        e.put("winrate_vs_prev_ci95", vsPrev.ci95());
        e.put("winrate_vs_start", vsStart.winRate());
        e.put("winrate_vs_start_ci95", vsStart.ci95());
        e.put("eval_prompts", vsStart.prompts());
        equilibrium(samples, e);
        RunDirectory.writeJson(dir.file(t, "eval.json"), e);
        finish(t, "eval");
    }

    /** Distance from the oracle's equilibrium, where the oracle knows its game; and, for the built-in tasks, the share of correct answers. */
    private void equilibrium(Map<String, List<String>> samples, ObjectNode into) {
        if (oracle instanceof EquilibriumDistance d) {
            try {
                into.put("exploitability", d.exploitability(samples));
                if (oracle instanceof CyclicStyleOracle c) {
                    into.put("pooled_exploitability", c.pooledExploitability(samples));
                    double[] dist = c.pooledDistribution(samples);
                    into.put("correct", 1 - dist[0]);
                    into.put("style_bare", dist[1]);
                    into.put("style_sentence", dist[2]);
                    into.put("style_equation", dist[3]);
                }
            } catch (IllegalArgumentException e) {
                LOG.warn("exploitability not computed: {}", e.getMessage());
            }
        }
    }

    private List<String> evalPromptTexts() {
        return readPrompts(dir.evalPrompts()).stream().map(PromptRecord::prompt).toList();
    }

    private Map<String, List<String>> sampleEval(Policy p, List<String> prompts, String task) {
        // The same seed for every policy: common random numbers make the win-rates less noisy.
        List<List<Completion>> all = generate(p, prompts, config.evalSamples, config.evalTemperature,
                Seeds.derive(config.seed, 0, Seeds.Stage.EVAL), task);
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (int i = 0; i < prompts.size(); i++) out.put(prompts.get(i), all.get(i).stream().map(Completion::text).toList());
        return out;
    }

    private static void writeSamples(Path file, Map<String, List<String>> samples) {
        List<ObjectNode> lines = new ArrayList<>();
        samples.forEach((prompt, texts) -> {
            ObjectNode n = RunDirectory.JSON.createObjectNode();
            n.put("prompt", prompt);
            ArrayNode a = n.putArray("samples");
            texts.forEach(a::add);
            lines.add(n);
        });
        RunDirectory.writeJsonl(file, lines);
    }

    static Map<String, List<String>> readSamplesMap(Path file) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (ObjectNode n : RunDirectory.readJsonl(file)) {
            List<String> s = new ArrayList<>();
            n.get("samples").forEach(x -> s.add(x.asText()));
            out.put(n.get("prompt").asText(), s);
        }
        return out;
    }

}
