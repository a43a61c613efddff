package org.dnonative.dno;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything a DNO run is made of. Field names are the YAML/JSON keys in snake_case
 * ({@code learning_rate}); the defaults are the paper's (Algorithm 2, "DNO-Prct"): K=5 samples at
 * temperature 0.7 and top-p 0.95, positive scores at least 5 of 6 with negatives 2 points lower
 * (1 when the positive is the policy's own sample), replay of 30% / 15% / halving of earlier
 * iterations' pairs, beta 0.1, learning rate 5e-5, batch 64 through gradient accumulation, at most
 * one epoch. The resolved configuration is saved as {@code config.json} in the run directory.
 *
 * <p>Mutable on purpose: a file is read into it, command-line flags overwrite fields, and then
 * {@link #validate()} lists every problem by field name.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public final class DnoConfig {

    // ---- the run
    /** Seed of every random choice; each stage derives its own from (seed, iteration, stage). */
    public long seed = 1;
    public int iterations = 3;
    /** cpu, cuda or cuda:N. */
    public String device = "cpu";
    /** libtorch intra-op threads; 0 = libtorch's default. A fixed number keeps CPU runs reproducible. */
    public int threads = 0;
    /** The starting policy pi_1 (a HuggingFace model directory); null: the embedded default model. */
    public String model;
    /** JSONL prompts ({"prompt": ..., "gold": ...}); null: the embedded arithmetic tasks. */
    public String prompts;
    /** Held-out JSONL prompts for evaluation; null: the first {@code eval_prompts} of the prompt set are held out. */
    public String evalPromptsFile;
    /** How many prompts to hold out for evaluation when no evaluation file is given. */
    public int evalPrompts = 64;
    /** Prompts per iteration; 0: the non-held-out prompts split into {@code iterations} equal parts. */
    public int promptsPerIteration = 0;
    /** Put prompts through the model's chat template (false: raw text). */
    public boolean chatTemplate = true;
    /** Weights dtype of saved checkpoints: float32, bfloat16 or float16. */
    public String saveDtype = "float32";

    // ---- sampling
    /** K: samples per prompt. */
    public int samples = 5;
    public double temperature = 0.7;
    public double topP = 0.95;
    public int topK = 0;
    public int maxNewTokens = 256;
    /** Sequences sampled at once. */
    public int sampleBatch = 64;

    // ---- oracle and teacher
    /** builtin (the embedded cyclic-style oracle) or judge (an OpenAI-compatible LLM judge). */
    public String oracle = "builtin";
    public Judge judge = new Judge();
    /**
     * Add the teacher's gold response: "prompt-file" (the prompts' gold field), "builtin" (the
     * arithmetic solver), "endpoint" (a teacher model behind an OpenAI-compatible endpoint, see
     * {@link #teacherEndpoint}, for prompts without a gold field) or "none".
     */
    public String teacher = "auto";
    /** The teacher model when teacher is "endpoint". */
    public Judge teacherEndpoint = new Judge();

    // ---- pairs
    /** listwise, pairwise, or auto (list-wise when the oracle gives scores). */
    public String pairRule = "auto";
    public double positiveMinScore = 5;
    public double negativeMargin = 2;
    /** Margin when the positive is the policy's own sample. */
    public double negativeMarginSelf = 1;
    /** At most this many pairs per prompt (0: one per negative). */
    public int maxPairsPerPrompt = 0;
    /** n of the n-gram repetition check. */
    public int repetitionNgram = 4;
    /** A sample whose share of repeated n-grams exceeds this is an automatic negative (1 = off). */
    public double repetitionThreshold = 0.5;
    /** Pairwise rule: pair best and worst when r_t(best) - r_t(worst) exceeds this. */
    public double pairwiseMargin = 0.1;
    /** Algorithm 1: soft targets sigma(r_t(y_w) - r_t(y_l)) instead of hard ones (pairwise rule). */
    public boolean softTargets = false;

    // ---- replay
    /** Share of pairs replayed from iteration t-1, relative to the new pairs. */
    public double replayFraction = 0.3;
    /** Each older iteration gets this times the previous share (0.5: 30%, 15%, 7.5%...). */
    public double replayDecay = 0.5;

    // ---- training
    public double beta = 0.1;
    public double learningRate = 5e-5;
    /** Learning rate multiplier per iteration (lower in later iterations: < 1). */
    public double learningRateDecay = 1.0;
    /** Pairs per optimizer step (reached through gradient accumulation). */
    public int batchSize = 64;
    /** Pairs per forward/backward pass. */
    public int microBatch = 8;
    /** Share of the iteration's pairs seen, at most one epoch. */
    public double epochs = 1.0;
    public double warmupRatio = 0.1;
    public double weightDecay = 0.0;
    public double maxGradNorm = 1.0;
    /**
     * native (the project's DNO loss kernel on the logits), fused (the fused lm_head + loss kernel on
     * the final hidden states: the [N,T,V] logits never exist, for large vocabularies) or libtorch
     * (the reference composition).
     */
    public String loss = "native";
    /** Tokens per forward pass when computing reference log-probs. */
    public int scoreTokenBudget = 16384;

    // ---- evaluation
    /** Samples per held-out prompt and policy. */
    public int evalSamples = 5;
    public double evalTemperature = 0.7;
    /** Compare every sample of one policy with every sample of the other (false: sample i with sample i). */
    public boolean evalAllPairs = false;

    // ---- embedded default run
    public Embedded embedded = new Embedded();

    /** An OpenAI-compatible LLM judge. The API key is read from the environment variable named here. */
    public static final class Judge {
        public String baseUrl;
        public String model;
        public String apiKeyEnv = "OPENAI_API_KEY";
        public double timeoutSeconds = 120;
        public int concurrency = 8;
        /** listwise, pairwise or both. */
        public String mode = "listwise";
    }

    /** The built-in task family, the small policy and its warm start. */
    public static final class Embedded {
        public int maxOperand = 9;
        public String operators = "+-";
        /** Strength of the cyclic preference among answer styles, in (0, 0.5]. */
        public double cycleStrength = 0.25;
        public int hiddenSize = 64;
        public int intermediateSize = 128;
        public int layers = 2;
        public int heads = 4;
        public int kvHeads = 2;
        public long modelSeed = 7;
        /** Supervised warm-start steps on imperfect demonstrations. */
        public int sftSteps = 1000;
        public int sftBatch = 32;
        public double sftLearningRate = 3e-3;
        /** Share of demonstrations with a near-miss (wrong) answer. */
        public double nearMissRate = 0.03;
        /** Demonstration styles: bare, sentence, equation weights. */
        public List<Double> styleWeights = new ArrayList<>(List.of(0.8, 0.2, 0.0));
    }

    /**
     * The embedded default run ({@code train} with no arguments): the built-in arithmetic tasks and
     * cyclic-style oracle, the small warm-started policy, and optimisation settings sized for it (a
     * model of 10^5 parameters needs a far larger learning rate than the paper's 7B model, and
     * batches small enough to take several steps per iteration). On the CPU, one libtorch thread:
     * reproducible, and on small tensors faster than several.
     */
    public static DnoConfig embeddedDefaults() {
        DnoConfig c = new DnoConfig();
        c.threads = 1;
        c.iterations = 3;
        c.evalPrompts = 40;
        c.maxNewTokens = 20;
        c.sampleBatch = 256;
        // The paper's learning rate (5e-5) and pair rule (own-sample margin 1), with batches of 4
        // pairs: the pool of ~53 prompts per iteration gives 40-100 pairs, 10-25 AdamW steps. With
        // 2e-4 (and the own-sample margin raised to 2 to keep the steps few) the run improved on one
        // seed and lost correctness on others; at 5e-5 each step moves the 10^5-parameter policy
        // little enough that correct bare answers can be negatives against correct sentences (the
        // game's own signal) without their digits going wrong (docs/TRAIN.md, "Robustness").
        c.learningRate = 5e-5;
        // Lower in later iterations, as in the paper: the pairs per iteration grow (about 50, 65,
        // 85) as the policy's samples diversify, and 0.7 per iteration keeps the learning rate
        // times the number of steps about constant, so later iterations do not erode correctness.
        c.learningRateDecay = 0.7;
        c.batchSize = 4;
        c.microBatch = 4;
        c.evalSamples = 32;
        c.evalAllPairs = true;
        // K=16 samples per prompt: more of the policy's rarer styles, and more pairs per prompt.
        c.samples = 16;
        return c;
    }

    /** True when this run uses the embedded model (no --model). */
    public boolean usesEmbeddedModel() {
        return model == null || model.isBlank();
    }

    public boolean usesBuiltinPrompts() {
        return prompts == null || prompts.isBlank();
    }

    /** Every problem, as "field: message" (field in snake_case, nested with dots). */
    public List<FieldProblem> validate() {
        List<FieldProblem> p = new ArrayList<>();
        if (iterations < 1) p.add(new FieldProblem("iterations", "must be at least 1, was " + iterations));
        if (threads < 0) p.add(new FieldProblem("threads", "must be >= 0, was " + threads));
        if (device == null || !(device.equals("cpu") || device.startsWith("cuda")))
            p.add(new FieldProblem("device", "must be cpu, cuda or cuda:N, was " + device));
        if (evalPrompts < 1) p.add(new FieldProblem("eval_prompts", "must be at least 1, was " + evalPrompts));
        if (promptsPerIteration < 0) p.add(new FieldProblem("prompts_per_iteration", "must be >= 0, was " + promptsPerIteration));
        if (!List.of("float32", "bfloat16", "float16").contains(saveDtype))
            p.add(new FieldProblem("save_dtype", "must be float32, bfloat16 or float16, was " + saveDtype));
        if (samples < 2) p.add(new FieldProblem("samples", "must be at least 2 (pairs need two candidates), was " + samples));
        if (!(temperature >= 0)) p.add(new FieldProblem("temperature", "must be >= 0, was " + temperature));
        if (!(topP > 0 && topP <= 1)) p.add(new FieldProblem("top_p", "must be in (0, 1], was " + topP));
        if (topK < 0) p.add(new FieldProblem("top_k", "must be >= 0, was " + topK));
        if (maxNewTokens < 1) p.add(new FieldProblem("max_new_tokens", "must be at least 1, was " + maxNewTokens));
        if (sampleBatch < 1) p.add(new FieldProblem("sample_batch", "must be at least 1, was " + sampleBatch));
        if (!List.of("builtin", "judge").contains(oracle))
            p.add(new FieldProblem("oracle", "must be builtin or judge, was " + oracle));
        if ("judge".equals(oracle)) {
            if (judge == null || judge.baseUrl == null || judge.baseUrl.isBlank())
                p.add(new FieldProblem("judge.base_url", "is required when oracle is judge"));
            if (judge == null || judge.model == null || judge.model.isBlank())
                p.add(new FieldProblem("judge.model", "is required when oracle is judge"));
            if (judge != null && !List.of("listwise", "pairwise", "both").contains(judge.mode))
                p.add(new FieldProblem("judge.mode", "must be listwise, pairwise or both, was " + judge.mode));
            if (judge != null && judge.concurrency < 1)
                p.add(new FieldProblem("judge.concurrency", "must be at least 1, was " + judge.concurrency));
            if (judge != null && !(judge.timeoutSeconds > 0))
                p.add(new FieldProblem("judge.timeout_seconds", "must be > 0, was " + judge.timeoutSeconds));
        }
        if (!List.of("auto", "prompt-file", "builtin", "endpoint", "none").contains(teacher))
            p.add(new FieldProblem("teacher", "must be auto, prompt-file, builtin, endpoint or none, was " + teacher));
        if (teacher.equals("endpoint") && (teacherEndpoint == null || teacherEndpoint.baseUrl == null || teacherEndpoint.model == null))
            p.add(new FieldProblem("teacher_endpoint", "teacher: endpoint needs teacher_endpoint.base_url and teacher_endpoint.model"));
        if (!List.of("auto", "listwise", "pairwise").contains(pairRule))
            p.add(new FieldProblem("pair_rule", "must be auto, listwise or pairwise, was " + pairRule));
        if (!(negativeMargin > 0)) p.add(new FieldProblem("negative_margin", "must be > 0, was " + negativeMargin));
        if (!(negativeMarginSelf > 0)) p.add(new FieldProblem("negative_margin_self", "must be > 0, was " + negativeMarginSelf));
        if (maxPairsPerPrompt < 0) p.add(new FieldProblem("max_pairs_per_prompt", "must be >= 0, was " + maxPairsPerPrompt));
        if (repetitionNgram < 1) p.add(new FieldProblem("repetition_ngram", "must be at least 1, was " + repetitionNgram));
        if (!(repetitionThreshold > 0 && repetitionThreshold <= 1))
            p.add(new FieldProblem("repetition_threshold", "must be in (0, 1], was " + repetitionThreshold));
        if (!(pairwiseMargin >= 0 && pairwiseMargin < 1)) p.add(new FieldProblem("pairwise_margin", "must be in [0, 1), was " + pairwiseMargin));
        if (softTargets && "listwise".equals(pairRule))
            p.add(new FieldProblem("soft_targets", "needs the pairwise rule (Algorithm 1's r_t), but pair_rule is listwise"));
        if (!(replayFraction >= 0 && replayFraction <= 1)) p.add(new FieldProblem("replay_fraction", "must be in [0, 1], was " + replayFraction));
        if (!(replayDecay >= 0 && replayDecay <= 1)) p.add(new FieldProblem("replay_decay", "must be in [0, 1], was " + replayDecay));
        if (!(beta > 0)) p.add(new FieldProblem("beta", "must be > 0, was " + beta));
        if (!(learningRate > 0)) p.add(new FieldProblem("learning_rate", "must be > 0, was " + learningRate));
        if (!(learningRateDecay > 0 && learningRateDecay <= 1)) p.add(new FieldProblem("learning_rate_decay", "must be in (0, 1], was " + learningRateDecay));
        if (batchSize < 1) p.add(new FieldProblem("batch_size", "must be at least 1, was " + batchSize));
        if (microBatch < 1) p.add(new FieldProblem("micro_batch", "must be at least 1, was " + microBatch));
        if (!(epochs > 0 && epochs <= 1)) p.add(new FieldProblem("epochs", "must be in (0, 1] (DNO trains at most one epoch per iteration), was " + epochs));
        if (!(warmupRatio >= 0 && warmupRatio < 1)) p.add(new FieldProblem("warmup_ratio", "must be in [0, 1), was " + warmupRatio));
        if (!(weightDecay >= 0)) p.add(new FieldProblem("weight_decay", "must be >= 0, was " + weightDecay));
        if (!(maxGradNorm >= 0)) p.add(new FieldProblem("max_grad_norm", "must be >= 0 (0 = no clipping), was " + maxGradNorm));
        if (!List.of("native", "fused", "libtorch").contains(loss)) p.add(new FieldProblem("loss", "must be native, fused or libtorch, was " + loss));
        if (scoreTokenBudget < 1) p.add(new FieldProblem("score_token_budget", "must be at least 1, was " + scoreTokenBudget));
        if (evalSamples < 1) p.add(new FieldProblem("eval_samples", "must be at least 1, was " + evalSamples));
        if (!(evalTemperature >= 0)) p.add(new FieldProblem("eval_temperature", "must be >= 0, was " + evalTemperature));
        if (embedded == null) {
            p.add(new FieldProblem("embedded", "must be an object"));
        } else {
            Embedded e = embedded;
            if (e.maxOperand < 1) p.add(new FieldProblem("embedded.max_operand", "must be at least 1, was " + e.maxOperand));
            if (e.operators == null || !e.operators.matches("[+\\-*]+"))
                p.add(new FieldProblem("embedded.operators", "must be made of + - *, was " + e.operators));
            if (!(e.cycleStrength > 0 && e.cycleStrength <= 0.5))
                p.add(new FieldProblem("embedded.cycle_strength", "must be in (0, 0.5], was " + e.cycleStrength));
            if (e.hiddenSize < 1 || e.heads < 1 || e.kvHeads < 1 || e.hiddenSize % e.heads != 0 || e.heads % e.kvHeads != 0)
                p.add(new FieldProblem("embedded.hidden_size", "hidden_size must be a multiple of heads and heads of kv_heads"));
            if (e.layers < 1) p.add(new FieldProblem("embedded.layers", "must be at least 1, was " + e.layers));
            if (e.intermediateSize < 1) p.add(new FieldProblem("embedded.intermediate_size", "must be at least 1"));
            if (e.sftSteps < 0) p.add(new FieldProblem("embedded.sft_steps", "must be >= 0, was " + e.sftSteps));
            if (e.sftBatch < 1) p.add(new FieldProblem("embedded.sft_batch", "must be at least 1, was " + e.sftBatch));
            if (!(e.sftLearningRate > 0)) p.add(new FieldProblem("embedded.sft_learning_rate", "must be > 0"));
            if (!(e.nearMissRate >= 0 && e.nearMissRate < 1))
                p.add(new FieldProblem("embedded.near_miss_rate", "must be in [0, 1), was " + e.nearMissRate));
            if (e.styleWeights == null || e.styleWeights.size() != 3 || e.styleWeights.stream().anyMatch(w -> w == null || w < 0)
                    || e.styleWeights.stream().mapToDouble(Double::doubleValue).sum() <= 0)
                p.add(new FieldProblem("embedded.style_weights", "must be 3 non-negative weights (bare, sentence, equation) with a positive sum"));
        }
        return p;
    }

    /** A problem with one field of the configuration. */
    public record FieldProblem(String field, String message) {}
}
