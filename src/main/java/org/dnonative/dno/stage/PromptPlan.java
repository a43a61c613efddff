package org.dnonative.dno.stage;

import org.dnonative.dno.ConfigException;
import org.dnonative.dno.config.DnoConfig;

/**
 * How many prompts each iteration gets, from the size of the prompt set: checked before a run
 * directory is made (by {@link Preflight}) and used by the split.
 */
public record PromptPlan(int total, int evalHeldOut, int perIteration, int parts) {

    /** @param total prompts in the set (the prompt file, or the built-in tasks) */
    public static PromptPlan of(DnoConfig config, int total) {
        int held = 0;
        if (!config.prompts().hasEvalFile()) {
            held = config.prompts().evalCount();
            if (held >= total)
                throw new ConfigException("field 'prompts.eval_count' (" + held + ") leaves no training prompts out of " + total);
            if (config.prompts().validation() && 2L * held > total)
                throw new ConfigException("field 'prompts.validation': " + total + " prompts hold no validation split of "
                        + held + " (field 'prompts.eval_count') after the " + held + " evaluation prompts");
        }
        int train = total - held;
        int parts = config.prompts().partCount(config.iterations());
        int per = config.prompts().perIteration() > 0 ? config.prompts().perIteration() : train / parts;
        if (per < 1 || (long) per * parts > train)
            throw new ConfigException("not enough prompts: " + train + " training prompts for " + parts
                    + (parts == config.iterations() ? " iterations" : " parts") + " of " + Math.max(per, 1)
                    + " (field 'prompts.per_iteration' or " + (parts == config.iterations() ? "'iterations')" : "'prompts.parts')"));
        return new PromptPlan(total, held, per, parts);
    }
}
