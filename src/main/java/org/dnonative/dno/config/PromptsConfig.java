package org.dnonative.dno.config;

/**
 * Where the prompts come from and how they are split.
 *
 * @param file         JSONL prompts ({"prompt": ..., "gold": ...}); null: the embedded arithmetic tasks
 * @param evalFile     held-out JSONL prompts for evaluation; null: the first {@code evalCount} of the set are held out
 * @param evalCount    prompts held out for evaluation when there is no {@code evalFile}
 * @param perIteration prompts per iteration; 0: the training prompts split into {@code iterations} equal parts
 * @param parts        prompt parts the iterations cycle through (iteration t takes part (t-1) mod parts + 1, fresh
 *                     samples of the current policy each time); 0: one part per iteration, every prompt used once
 * @param chatTemplate put prompts through the model's chat template (false: raw text)
 * @param validation   evaluate on a validation split instead of the held-out evaluation prompts: the
 *                     {@code evalCount} prompts after them in the shuffled set, which the run then does not
 *                     train on (the evaluation prompts take their place in training; the run is otherwise the
 *                     same). For comparing designs without looking at the evaluation prompts; needs no
 *                     {@code evalFile}
 */
public record PromptsConfig(String file, String evalFile, int evalCount, int perIteration, int parts, boolean chatTemplate,
                            boolean validation) {
    public PromptsConfig {
        new Checks().atLeast(evalCount, 1, "eval_count").atLeast(perIteration, 0, "per_iteration").atLeast(parts, 0, "parts")
                .require(!validation || evalFile == null || evalFile.isBlank(), "validation",
                        "splits the prompt set, so it cannot be used with prompts.eval_file")
                .throwIfAny();
    }

    public static PromptsConfig defaults() {
        return new PromptsConfig(null, null, 64, 0, 0, true, false);
    }

    public boolean builtin() {
        return file == null || file.isBlank();
    }

    /** How many prompt parts a run of {@code iterations} makes. */
    public int partCount(int iterations) {
        return parts > 0 ? Math.min(parts, iterations) : iterations;
    }

    public boolean hasEvalFile() {
        return evalFile != null && !evalFile.isBlank();
    }
}
