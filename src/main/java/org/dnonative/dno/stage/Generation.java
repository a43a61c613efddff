package org.dnonative.dno.stage;

import org.dnonative.dist.Shard;
import org.dnonative.dno.Progress;
import org.dnonative.dno.config.SamplingConfig;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;
import org.dnonative.model.Sampler;
import org.dnonative.model.SamplingParams;

import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;

/** K samples per prompt from a policy, in chunks of {@code sampling.batch} sequences, with a progress bar. */
public final class Generation {
    private Generation() {}

    /** @param seed each chunk of prompts draws from {@code seed} plus the index of its first prompt */
    public static List<List<Completion>> generate(SamplingConfig sampling, boolean chatTemplate, Progress.Factory bars, Policy p,
                                                  List<String> prompts, int k, double temperature, long seed, String task) {
        return generate(sampling, chatTemplate, bars, p, prompts, k, temperature, seed, task, Shard.WHOLE);
    }

    /** The prompts in each chunk {@link #generate} samples together (the unit a distributed run shards by). */
    public static int chunk(SamplingConfig sampling, int k) {
        return Math.max(1, sampling.batch() / k);
    }

    /**
     * As above, for the chunks that {@code shard} owns only: null for the prompts of other chunks.
     * Each chunk is sampled exactly as a single process samples it, so the samples do not depend on
     * the number of processes.
     */
    public static List<List<Completion>> generate(SamplingConfig sampling, boolean chatTemplate, Progress.Factory bars, Policy p,
                                                  List<String> prompts, int k, double temperature, long seed, String task, Shard shard) {
        List<List<Completion>> out = new ArrayList<>();
        int chunk = chunk(sampling, k);
        try (Progress bar = bars.start(task, prompts.size())) {
            for (int from = 0, c = 0; from < prompts.size(); from += chunk, c++) {
                int to = Math.min(prompts.size(), from + chunk);
                if (!shard.owns(c)) {
                    // another rank's chunk: the bar shows the stage's progress, as in a single process
                    for (int i = from; i < to; i++) out.add(null);
                    bar.step(to - from);
                    continue;
                }
                List<int[]> ids = new ArrayList<>();
                for (String s : prompts.subList(from, to)) ids.add(Encoding.prompt(p, s, chatTemplate));
                SamplingParams sp = new SamplingParams(k, temperature, sampling.topP(), sampling.topK(), sampling.maxNewTokens(), List.of(),
                        seed + from, sampling.batch());
                out.addAll(new Sampler(p, sampling.maskUntokenizedIds())
                        .withDtype("bfloat16".equals(sampling.dtype()) ? torch.ScalarType.BFloat16 : torch.ScalarType.Float)
                        .generate(ids, sp));
                bar.step(to - from);
            }
        }
        return out;
    }
}
