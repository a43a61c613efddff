package org.dnonative.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Batched sampling with a KV cache. Prompts are left-padded, prefilled in one forward pass, and
 * then every row decodes one token per step until it ends (eos, stop string or max new tokens).
 *
 * <p>Batches (of {@code maxBatch} rows) decode concurrently, one per compute thread ({@link Threads}),
 * each with its own KV cache. Token choice happens in Java on the logits of each row
 * (one [rows, V] copy per step into a reused array) with a random stream of its own,
 * derived from (seed, prompt index, sample index): samples are reproducible for a seed and do not
 * depend on how prompts are grouped into batches (up to float rounding of the batched forward).
 *
 * <p>Padded vocabularies: checkpoints such as Qwen2.5/Qwen3 have more embedding rows
 * ({@code vocab_size}) than the tokenizer has tokens. Such ids can be sampled like any other (as
 * transformers does) and decode to "" (as transformers' decode drops ids it has no token for);
 * {@link #maskingUntokenizedIds()} keeps them out of sampling instead.
 */
public final class Sampler {
    private final Policy policy;
    private final boolean maskUntokenized;
    private final torch.ScalarType dtype;

    public Sampler(Policy policy) {
        this(policy, false);
    }

    private Sampler(Policy policy, boolean maskUntokenized, torch.ScalarType dtype) {
        this.policy = policy;
        this.maskUntokenized = maskUntokenized;
        this.dtype = dtype;
    }

    /**
     * A sampler like this one that decodes with the weights cast to {@code dtype} (Float or
     * BFloat16): each {@link #generate} call casts them once (a few tens of ms for 40M parameters)
     * and frees the copy at its end, so that it always samples the current policy. The tokens'
     * log-probs that enter the DNO loss are computed in float32 by the scorer either way.
     */
    public Sampler withDtype(torch.ScalarType dtype) {
        if (dtype != torch.ScalarType.Float && dtype != torch.ScalarType.BFloat16)
            throw new IllegalArgumentException("sampling dtype must be float32 or bfloat16, not " + dtype);
        return new Sampler(policy, maskUntokenized, dtype);
    }

    /**
     * True when this CPU computes bfloat16 matrix products natively (AVX-512 BF16 or AMX, from
     * /proc/cpuinfo): elsewhere bf16 is emulated and slower than float32.
     */
    public static boolean cpuHasBf16() {
        try {
            String info = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"));
            return info.contains(" avx512_bf16") || info.contains(" amx_bf16");
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * @param maskUntokenized give ids the tokenizer has no token for (a padded vocabulary's tail)
     *                        probability zero, so that every sampled token decodes to text
     */
    public Sampler(Policy policy, boolean maskUntokenized) {
        this(policy, maskUntokenized, torch.ScalarType.Float);
    }

    /** A sampler like this one that never samples ids the tokenizer lacks. */
    public Sampler maskingUntokenizedIds() {
        return new Sampler(policy, true, dtype);
    }

    /** K completions for each prompt (token ids), in prompt order. */
    public List<List<Completion>> generate(List<int[]> prompts, SamplingParams p) {
        List<List<Completion>> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            if (prompts.get(i).length == 0) throw new IllegalArgumentException("prompt " + i + " is empty");
            out.add(new ArrayList<>());
        }
        // rows = (prompt, sample); group rows of similar prompt length to limit padding
        int rows = prompts.size() * p.samples();
        Integer[] order = new Integer[rows];
        for (int r = 0; r < rows; r++) order[r] = r;
        Arrays.sort(order, (a, b) -> Integer.compare(prompts.get(a / p.samples()).length, prompts.get(b / p.samples()).length));
        Completion[] results = new Completion[rows];
        // bf16 on a float32 CPU model: bf16 copies of the large matrices for the decode step's kernel
        // (float32 activations and sums); elsewhere a copy of the whole model in that dtype
        CausalLM cast = null;
        if (dtype != policy.model().dtype()) {
            if (dtype == torch.ScalarType.BFloat16) cast = policy.model().withBf16DecodeWeights();
            if (cast == null) cast = policy.model().inferenceCopy(dtype);
        }
        CausalLM model = cast == null ? policy.model() : cast;
        try {
            // Whole batches run concurrently, one per compute thread; a batch is never split: a decode
            // step is bound by reading the weights, and every part of a split batch reads all of them
            // (measured: 8 rows as 2 x 4 on 2 threads, 24-36 tok/s against 96 as one batch, load 6-8).
            // Fewer batches than threads: each batch's decode products are split by columns over
            // the threads it has to itself (DecodeLinear), which reads each weight part once.
            int batchCount = (rows + p.maxBatch() - 1) / p.maxBatch();
            int kernelThreads = Math.max(1, Threads.count() / Math.max(1, batchCount));
            List<java.util.concurrent.Callable<Completion[]>> batches = new ArrayList<>();
            List<int[]> chunks = new ArrayList<>();
            for (int start = 0; start < rows; start += p.maxBatch()) {
                int end = Math.min(rows, start + p.maxBatch());
                int[] chunk = new int[end - start];
                for (int i = start; i < end; i++) chunk[i - start] = order[i];
                chunks.add(chunk);
                batches.add(() -> DecodeLinear.withThreads(kernelThreads, () -> generateRows(model, prompts, chunk, p)));
            }
            List<Completion[]> done = Threads.run(batches);
            for (int k = 0; k < chunks.size(); k++)
                for (int i = 0; i < chunks.get(k).length; i++) results[chunks.get(k)[i]] = done.get(k)[i];
        } finally {
            if (cast != null) cast.close();
        }
        for (int r = 0; r < rows; r++) out.get(r / p.samples()).add(results[r]);
        return out;
    }

    private Completion[] generateRows(CausalLM model, List<int[]> prompts, int[] rowIds, SamplingParams p) {
        Device device = model.device();
        int b = rowIds.length;
        int maxLen = 0;
        for (int r : rowIds) maxLen = Math.max(maxLen, prompts.get(r / p.samples()).length);
        long[] ids = new long[b * maxLen];
        long[] mask = new long[b * maxLen];
        long[] positions = new long[b * maxLen];
        long[] nextPos = new long[b];
        SplittableRandom[] rng = new SplittableRandom[b];
        Arrays.fill(ids, policy.padId());
        for (int i = 0; i < b; i++) {
            int prompt = rowIds[i] / p.samples(), k = rowIds[i] % p.samples();
            int[] pr = prompts.get(prompt);
            int off = maxLen - pr.length;
            for (int j = 0; j < pr.length; j++) {
                ids[i * maxLen + off + j] = pr[j];
                mask[i * maxLen + off + j] = 1;
                positions[i * maxLen + off + j] = j;
            }
            nextPos[i] = pr.length;
            rng[i] = new SplittableRandom(mix(p.seed(), prompt, k));
        }
        int[][] generated = new int[b][p.maxNewTokens()];
        int[] count = new int[b];
        String[] finish = new String[b];
        int vocab = model.config().vocabSize();
        Set<Integer> eos = policy.eosIds();
        boolean[] untokenized = maskUntokenized ? untokenizedIds(vocab) : null;
        // The rows' draws (a softmax over the vocabulary each, in Java) split over the threads this
        // batch has to itself, as its decode products are; one probability buffer per share, reused
        // for every draw (no per-token garbage). Each row draws from its own stream: the same tokens
        // for every thread count.
        int shares = Math.max(1, Math.min(DecodeLinear.threads(), b));
        double[][] scratch = new double[shares][vocab];
        // The K samples of a prompt share its prefill: each distinct prompt of the batch is prefilled
        // once and its cache rows copied to its samples' rows (K times less prefill work). Only
        // for models whose matrices the decode kernel takes: a tiny model's products may round
        // differently with the row count, and the demo's tables are those of a full prefill.
        int[] first = new int[b];      // row -> the first row of the batch with its prompt
        int u = 0;
        int[] uniq = new int[b];       // distinct prompts' first rows
        boolean share = model.sharesPrefill();
        for (int i = 0; i < b; i++) {
            first[i] = i;
            if (share)
                for (int j = 0; j < i; j++)
                    if (rowIds[j] / p.samples() == rowIds[i] / p.samples()) { first[i] = first[j]; break; }
            if (first[i] == i) uniq[u++] = i;
        }
        try (NoGradGuard noGrad = new NoGradGuard();
             KvCache cache = new KvCache(model.config(), u, maxLen + p.maxNewTokens(), device, model.dtype())) {
            float[] logits;
            try (PointerScope scope = new PointerScope()) {
                long[] uIds = new long[u * maxLen], uPos = new long[u * maxLen], uMask = new long[u * maxLen];
                for (int j = 0; j < u; j++) {
                    System.arraycopy(ids, uniq[j] * maxLen, uIds, j * maxLen, maxLen);
                    System.arraycopy(positions, uniq[j] * maxLen, uPos, j * maxLen, maxLen);
                    System.arraycopy(mask, uniq[j] * maxLen, uMask, j * maxLen, maxLen);
                }
                Tensor in = Tensors.fromLongs(uIds, u, maxLen).to(device, torch.ScalarType.Long);
                Tensor pos = Tensors.fromLongs(uPos, u, maxLen).to(device, torch.ScalarType.Long);
                Tensor km = Tensors.fromLongs(uMask, u, maxLen).to(device, torch.ScalarType.Bool);
                Tensor h = model.hidden(in, pos, km, cache);
                float[] prefilled = Tensors.toFloats(model.logits(h.select(1, maxLen - 1)), null);
                if (u == b) {
                    logits = prefilled;
                } else {
                    int[] slotOf = new int[b];
                    for (int j = 0; j < u; j++) slotOf[uniq[j]] = j;
                    long[] rowsFrom = new long[b];
                    logits = new float[b * vocab];
                    for (int i = 0; i < b; i++) {
                        rowsFrom[i] = slotOf[first[i]];
                        System.arraycopy(prefilled, (int) rowsFrom[i] * vocab, logits, i * vocab, vocab);
                    }
                    cache.keepRows(Tensors.fromLongs(rowsFrom, b).to(device, torch.ScalarType.Long));
                }
            }
            int active = b;
            int[] live = new int[b];            // batch slot -> row; finished rows are dropped from the batch
            for (int i = 0; i < b; i++) live[i] = i;
            for (int t = 0; t < p.maxNewTokens() && active > 0; t++) {
                final int[] rowsNow = live;
                final float[] drawn = logits;
                RowShare.run(shares, shares - 1, c -> {
                    for (int j = rowsNow.length * c / shares; j < rowsNow.length * (c + 1) / shares; j++) {
                        int i = rowsNow[j];
                        if (finish[i] != null) continue;
                        if (untokenized != null) mask(drawn, j * vocab, untokenized);
                        int tok = choose(drawn, j * vocab, vocab, p, rng[i], scratch[c]);
                        generated[i][count[i]++] = tok;
                        if (eos.contains(tok)) finish[i] = "eos";
                        else if (!p.stopStrings().isEmpty() && endsWithStop(generated[i], count[i], p.stopStrings())) finish[i] = "stop";
                        else if (count[i] == p.maxNewTokens()) finish[i] = "length";
                    }
                });
                active = 0;
                for (String f : finish) if (f == null) active++;
                if (active == 0 || t == p.maxNewTokens() - 1) break;
                if (active <= live.length / 2) live = compact(cache, live, finish, device);
                try (PointerScope scope = new PointerScope()) {
                    int n = live.length;
                    long[] step = new long[n], pp = new long[n];
                    for (int j = 0; j < n; j++) {
                        int i = live[j];
                        step[j] = finish[i] != null ? policy.padId() : generated[i][count[i] - 1];
                        pp[j] = nextPos[i]++;
                    }
                    Tensor in = Tensors.fromLongs(step, n, 1).to(device, torch.ScalarType.Long);
                    Tensor pos = Tensors.fromLongs(pp, n, 1).to(device, torch.ScalarType.Long);
                    Tensor h = model.hidden(in, pos, null, cache);
                    logits = Tensors.toFloats(model.logits(h.select(1, 0)), logits);   // reuses the array: no per-step garbage
                }
            }
        }
        Completion[] out = new Completion[b];
        for (int i = 0; i < b; i++) {
            int[] g = Arrays.copyOf(generated[i], count[i]);
            out[i] = new Completion(g, decode(g), finish[i] == null ? "length" : finish[i]);
        }
        return out;
    }

    /**
     * Teacher-forced decoding: each response token's log-prob as the decode step computes it (the
     * prompts prefilled, then one token per step through the KV cache, as {@link #generate} does),
     * summed per sequence. Prompts all of one length and responses all of one length (no padding).
     * For measuring what a decode-time approximation (bf16 weights) does to the sampling
     * distribution, against {@link Scorer}'s float32 log-probs of the same tokens.
     */
    public static double[] decodeLogprobs(CausalLM model, List<int[]> prompts, List<int[]> responses) {
        int b = prompts.size(), pl = prompts.get(0).length, rl = responses.get(0).length;
        for (int i = 0; i < b; i++)
            if (prompts.get(i).length != pl || responses.get(i).length != rl)
                throw new IllegalArgumentException("decodeLogprobs needs prompts of one length and responses of one length (row " + i + ")");
        double[] sums = new double[b];
        Device device = model.device();
        try (NoGradGuard noGrad = new NoGradGuard(); KvCache cache = new KvCache(model.config(), b, pl + rl, device, model.dtype())) {
            long[] ids = new long[b * pl], pos = new long[b * pl];
            for (int i = 0; i < b; i++)
                for (int j = 0; j < pl; j++) { ids[i * pl + j] = prompts.get(i)[j]; pos[i * pl + j] = j; }
            Tensor logits;
            try (PointerScope scope = new PointerScope()) {
                Tensor h = model.hidden(Tensors.fromLongs(ids, b, pl).to(device, torch.ScalarType.Long),
                        Tensors.fromLongs(pos, b, pl).to(device, torch.ScalarType.Long), null, cache);
                logits = Scopes.keep(model.logits(h.select(1, pl - 1)));
            }
            for (int t = 0; t < rl; t++) {
                long[] step = new long[b], pp = new long[b];
                for (int i = 0; i < b; i++) { step[i] = responses.get(i)[t]; pp[i] = pl + t; }
                try (PointerScope scope = new PointerScope()) {
                    Tensor tok = Tensors.fromLongs(step, b, 1).to(device, torch.ScalarType.Long);
                    float[] lp = Tensors.toFloats(torch.log_softmax(logits.to(torch.ScalarType.Float), 1, new ScalarTypeOptional())
                            .gather(1, tok), null);
                    for (int i = 0; i < b; i++) sums[i] += lp[i];
                    if (t == rl - 1) break;
                    Tensor h = model.hidden(tok, Tensors.fromLongs(pp, b, 1).to(device, torch.ScalarType.Long), null, cache);
                    Tensor next = Scopes.keep(model.logits(h.select(1, 0)));
                    logits.close();
                    logits = next;
                }
            }
            logits.close();
        }
        return sums;
    }

    /**
     * Decodes generated ids skipping special tokens, with ids the tokenizer has no token for (a
     * padded vocabulary's tail) dropped first, as transformers' decode drops them.
     */
    private String decode(int[] ids) {
        return decodeKnown(policy.tokenizer(), ids);
    }

    /** {@link #decode} for a given tokenizer (package-private: the padded-vocabulary test checks it against transformers). */
    static String decodeKnown(Tokenizer tok, int[] ids) {
        int n = 0;
        int[] known = new int[ids.length];
        for (int id : ids) if (tok.token(id) != null) known[n++] = id;
        return tok.decode(n == ids.length ? ids : Arrays.copyOf(known, n), true);
    }

    /** true for the ids in [0, vocab) that the tokenizer has no token for. */
    private boolean[] untokenizedIds(int vocab) {
        boolean[] out = new boolean[vocab];
        for (int id = 0; id < vocab; id++) out[id] = policy.tokenizer().token(id) == null;
        return out;
    }

    /** -inf logits for the masked ids: greedy and every filter then ignore them. */
    private static void mask(float[] logits, int off, boolean[] masked) {
        for (int j = 0; j < masked.length; j++) if (masked[j]) logits[off + j] = Float.NEGATIVE_INFINITY;
    }

    /** Drops finished rows from the batch (and their KV cache rows) once at most half remain active. */
    private static int[] compact(KvCache cache, int[] live, String[] finish, Device device) {
        int n = 0;
        for (int i : live) if (finish[i] == null) n++;
        int[] kept = new int[n];
        long[] slots = new long[n];
        for (int j = 0, k = 0; j < live.length; j++) {
            if (finish[live[j]] == null) { kept[k] = live[j]; slots[k++] = j; }
        }
        try (PointerScope scope = new PointerScope()) {
            cache.keepRows(Tensors.fromLongs(slots, n).to(device, torch.ScalarType.Long));
        }
        return kept;
    }

    private boolean endsWithStop(int[] ids, int n, List<String> stops) {
        int from = Math.max(0, n - 32);
        String tail = decode(Arrays.copyOfRange(ids, from, n));
        for (String s : stops) if (tail.contains(s)) return true;
        return false;
    }

    static long mix(long seed, long prompt, long sample) {
        long z = seed * 0x9E3779B97F4A7C15L + prompt * 0xBF58476D1CE4E5B9L + sample * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Picks a token from one row of logits as transformers' sampling does: temperature, then top-k,
     * then top-p (the smallest set of most likely tokens whose probability reaches p), then a draw.
     */
    static int choose(float[] logits, int off, int vocab, SamplingParams p, SplittableRandom rng) {
        return choose(logits, off, vocab, p, rng, new double[vocab]);
    }

    /** {@link #choose} with a caller's buffer of at least {@code vocab} doubles for the probabilities. */
    static int choose(float[] logits, int off, int vocab, SamplingParams p, SplittableRandom rng, double[] prob) {
        if (p.temperature() == 0) {
            int best = 0;
            float bv = logits[off];
            for (int j = 1; j < vocab; j++) if (logits[off + j] > bv) { bv = logits[off + j]; best = j; }
            return best;
        }
        double invT = 1.0 / p.temperature();
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) max = Math.max(max, logits[off + j]);
        double sum = 0;
        for (int j = 0; j < vocab; j++) { prob[j] = Math.exp((logits[off + j] - max) * invT); sum += prob[j]; }
        for (int j = 0; j < vocab; j++) prob[j] /= sum;
        if (p.topK() > 0 && p.topK() < vocab) {
            double[] sorted = Arrays.copyOf(prob, vocab);
            Arrays.sort(sorted);
            double kth = sorted[vocab - p.topK()];
            double kept = 0;
            for (int j = 0; j < vocab; j++) { if (prob[j] < kth) prob[j] = 0; kept += prob[j]; }
            for (int j = 0; j < vocab; j++) prob[j] /= kept;
        }
        if (p.topP() < 1) {
            // Tokens below (1-p)/V all fall in the removed tail (their total is under 1-p), so only the rest is sorted.
            double floor = (1 - p.topP()) / vocab, removedMass = 0;
            int n = 0;
            long[] packed = new long[vocab];
            for (int j = 0; j < vocab; j++) {
                if (prob[j] < floor) { removedMass += prob[j]; prob[j] = 0; }
                else packed[n++] = ((long) Float.floatToIntBits((float) prob[j]) << 32) | j;
            }
            Arrays.sort(packed, 0, n); // ascending probability (non-negative float bits sort as ints)
            double cum = removedMass;
            for (int i = 0; i < n - 1; i++) {
                int j = (int) packed[i];
                cum += prob[j];
                if (cum <= 1 - p.topP()) prob[j] = 0;
                else break;
            }
        }
        double total = 0;
        for (int j = 0; j < vocab; j++) total += prob[j];
        double u = rng.nextDouble() * total, acc = 0;
        int last = 0;
        for (int j = 0; j < vocab; j++) {
            if (prob[j] == 0) continue;
            acc += prob[j];
            last = j;
            if (u < acc) return j;
        }
        return last;
    }
}
