package org.dnonative.dno.stage;

import org.dnonative.dno.Progress;
import org.dnonative.dno.config.SamplingConfig;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;
import org.dnonative.model.Sampler;
import org.dnonative.model.SamplingParams;

import java.util.ArrayList;
import java.util.List;

/** K samples per prompt from a policy, in chunks of {@code sampling.batch} sequences, with a progress bar. */
public final class Generation {
    private Generation() {}

    /** @param seed each chunk of prompts draws from {@code seed} plus the index of its first prompt */
    public static List<List<Completion>> generate(SamplingConfig sampling, boolean chatTemplate, Progress.Factory bars, Policy p,
                                                  List<String> prompts, int k, double temperature, long seed, String task) {
        List<List<Completion>> out = new ArrayList<>();
        int chunk = Math.max(1, sampling.batch() / k);
        try (Progress bar = bars.start(task, prompts.size())) {
            for (int from = 0; from < prompts.size(); from += chunk) {
                int to = Math.min(prompts.size(), from + chunk);
                List<int[]> ids = new ArrayList<>();
                for (String s : prompts.subList(from, to)) ids.add(Encoding.prompt(p, s, chatTemplate));
                SamplingParams sp = new SamplingParams(k, temperature, sampling.topP(), sampling.topK(), sampling.maxNewTokens(), List.of(),
                        seed + from, sampling.batch());
                out.addAll(new Sampler(p, sampling.maskUntokenizedIds()).generate(ids, sp));
                bar.step(to - from);
            }
        }
        return out;
    }
}
