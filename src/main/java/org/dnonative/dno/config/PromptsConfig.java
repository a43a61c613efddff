package org.dnonative.dno.config;

/**
 * Where the prompts come from and how they are split.
 *
 * @param file         JSONL prompts ({"prompt": ..., "gold": ...}); null: the embedded arithmetic tasks
 * @param evalFile     held-out JSONL prompts for evaluation; null: the first {@code evalCount} of the set are held out
 * @param evalCount    prompts held out for evaluation when there is no {@code evalFile}
 * @param perIteration prompts per iteration; 0: the training prompts split into {@code iterations} equal parts
 * @param chatTemplate put prompts through the model's chat template (false: raw text)
 */
public record PromptsConfig(String file, String evalFile, int evalCount, int perIteration, boolean chatTemplate) {
    public PromptsConfig {
        new Checks().atLeast(evalCount, 1, "eval_count").atLeast(perIteration, 0, "per_iteration").throwIfAny();
    }

    public static PromptsConfig defaults() {
        return new PromptsConfig(null, null, 64, 0, true);
    }

    public boolean builtin() {
        return file == null || file.isBlank();
    }

    public boolean hasEvalFile() {
        return evalFile != null && !evalFile.isBlank();
    }
}
