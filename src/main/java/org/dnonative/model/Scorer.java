package org.dnonative.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.bytedeco.pytorch.global.torch.log_softmax;

/**
 * Sequence scoring without grad: for each (prompt, response), sum over response tokens of
 * log p(token | everything before), as DNO's reference log-probs need. Sequences are sorted by
 * length and packed into batches under a token budget; only the response positions go through
 * lm_head, so memory is N_response x V per batch rather than B x T x V. On CPUs with AMX the
 * large float32 matrices multiply through {@link CausalLM#withAmxWeights} (bf16x3: about float32
 * accuracy, measured in benchmarks/RESULTS.md and bounded in AmxLinearTest and ScorerAmxTest).
 */
public final class Scorer {
    /** By default at most this many logits (float32) are materialised at once while scoring: 256 MiB. */
    public static final long DEFAULT_LOGIT_ELEMENTS = 64L << 20;
    /** Logits per lm_head slice while scoring: 8M floats (32 MiB). */
    private static final long SLICE_LOGIT_ELEMENTS = 8L << 20;

    private final CausalLM model;
    private final int padId;
    private final int tokenBudget;
    private final long maxLogitElements;

    /** @param tokenBudget at most this many (padded) tokens per forward pass */
    public Scorer(CausalLM model, int padId, int tokenBudget) {
        this(model, padId, tokenBudget, DEFAULT_LOGIT_ELEMENTS);
    }

    /** @param maxLogitElements at most this many logits exist at once (rows of V) */
    public Scorer(CausalLM model, int padId, int tokenBudget, long maxLogitElements) {
        if (tokenBudget < 1 || maxLogitElements < 1) throw new IllegalArgumentException("budgets must be positive");
        this.model = model;
        this.padId = padId;
        this.tokenBudget = tokenBudget;
        this.maxLogitElements = maxLogitElements;
    }

    public List<SequenceScore> score(List<int[]> prompts, List<int[]> responses) {
        int n = prompts.size();
        if (responses.size() != n) throw new IllegalArgumentException("prompts and responses differ in number");
        // callers name the input line (Policy.checkLength); this is the backstop before anything is allocated
        int maxPositions = model.config().maxPositionEmbeddings();
        for (int i = 0; i < n; i++) {
            long len = (long) prompts.get(i).length + responses.get(i).length;
            if (len > maxPositions)
                throw new IllegalArgumentException("sequence " + i + ": prompt and response are " + len
                        + " positions, more than the model's max_position_embeddings (" + maxPositions + ")");
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Integer.compare(prompts.get(a).length + responses.get(a).length,
                prompts.get(b).length + responses.get(b).length));
        SequenceScore[] out = new SequenceScore[n];
        // With several compute threads the batches are made small enough that each thread gets one
        // (batches are independent forward passes, scored concurrently on single-threaded libtorch).
        int threads = Threads.count();
        long total = 0;
        for (int k = 0; k < n; k++) total += prompts.get(k).length + responses.get(k).length;
        long budget = threads == 1 ? tokenBudget : Math.min(tokenBudget, Math.max(1, (total + threads - 1) / threads));
        List<int[]> spans = new ArrayList<>();
        int i = 0;
        while (i < n) {
            int j = i, maxLen = 0;
            while (j < n) {
                int len = prompts.get(order[j]).length + responses.get(order[j]).length;
                if (j > i && (long) Math.max(maxLen, len) * (j - i + 1) > budget) break;
                maxLen = Math.max(maxLen, len);
                j++;
            }
            spans.add(new int[]{i, j});
            i = j;
        }
        // the large matrices packed once for all batches (AMX, about float32 accuracy), where it runs
        CausalLM amx = n == 0 ? null : model.withAmxWeights(threads);
        CausalLM m = amx != null ? amx : model;
        List<java.util.concurrent.Callable<double[]>> tasks = new ArrayList<>();
        for (int[] span : spans) {
            List<int[]> ps = new ArrayList<>(), rs = new ArrayList<>();
            for (int k = span[0]; k < span[1]; k++) { ps.add(prompts.get(order[k])); rs.add(responses.get(order[k])); }
            tasks.add(() -> scoreBatch(m, ps, rs));
        }
        List<double[]> sums;
        try {
            sums = Threads.run(tasks);
        } finally {
            if (amx != null) amx.close();
        }
        for (int s = 0; s < spans.size(); s++)
            for (int k = spans.get(s)[0]; k < spans.get(s)[1]; k++)
                out[order[k]] = new SequenceScore(sums.get(s)[k - spans.get(s)[0]], responses.get(order[k]).length);
        return Arrays.asList(out);
    }

    private double[] scoreBatch(CausalLM model, List<int[]> prompts, List<int[]> responses) {
        double[] sums = new double[prompts.size()];
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope();
             SequenceBatch batch = new SequenceBatch(prompts, responses, padId, model.device())) {
            if (batch.responseTokens() == 0) return sums;
            Tensor hidden = model.hidden(batch.inputIds(), null, null, null);
            Tensor h = batch.responseHidden(hidden);
            // lm_head + log_softmax in slices of rows, so that N x V logits never exist at once
            int n = batch.responseTokens();
            // slices of at most 32 MiB of logits: the allocator then reuses their memory slice after
            // slice, where larger blocks are mapped fresh (and page-faulted) on every allocation
            int rows = (int) Math.max(1, Math.min(n, Math.min(maxLogitElements, SLICE_LOGIT_ELEMENTS) / model.config().vocabSize()));
            float[] lp = new float[n];
            for (int from = 0; from < n; from += rows) {
                int len = Math.min(rows, n - from);
                try (PointerScope slice = new PointerScope()) {
                    Tensor logp = log_softmax(model.logits(h.narrow(0, from, len)).to(torch.ScalarType.Float), -1);
                    Tensor tok = logp.gather(1, batch.targets().narrow(0, from, len).unsqueeze(1)).squeeze(1);
                    System.arraycopy(Tensors.toFloats(tok), 0, lp, from, len);
                }
            }
            long[] seq = Tensors.toLongs(batch.sequenceOf());
            for (int k = 0; k < lp.length; k++) sums[(int) seq[k]] += lp[k];
        }
        return sums;
    }

    /**
     * log p(target) of every response token, [N], differentiable when grad is on: the pure-libtorch
     * reference that the fused native loss replaces in training.
     */
    public static Tensor responseLogprobs(CausalLM model, SequenceBatch batch, Tensor hidden) {
        Tensor h = batch.responseHidden(hidden);
        Tensor logits = model.logits(h).to(torch.ScalarType.Float);
        Tensor logp = log_softmax(logits, -1);
        return logp.gather(1, batch.targets().unsqueeze(1)).squeeze(1);
    }

    /** Per-sequence sums [B] of {@link #responseLogprobs} (differentiable). */
    public static Tensor sequenceLogprobs(CausalLM model, SequenceBatch batch, Tensor hidden) {
        Tensor tok = responseLogprobs(model, batch, hidden);
        Tensor sums = torch.zeros(new long[]{batch.batch()}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Float)
                .device(new org.bytedeco.pytorch.DeviceOptional(model.device())));
        return sums.index_add(0, batch.sequenceOf(), tok);
    }
}
