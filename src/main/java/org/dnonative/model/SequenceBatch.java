package org.dnonative.model;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/**
 * A batch of (prompt, response) token sequences packed right-padded into [B,T] for scoring and
 * training. Right padding needs no attention mask: the causal mask already hides later slots.
 * The response tokens are addressed as a flat list of N rows: row j is predicted by the hidden
 * state at flat position {@link #hiddenIndex()}[j] = b*T + t-1 and its target is {@link #targets()}[j];
 * {@link #sequenceOf()}[j] = b.
 */
public final class SequenceBatch implements AutoCloseable {
    private final int batch, length, responseTokens;
    private final int[] promptLengths, responseLengths;
    /** Label of positions that predict no response token (transformers' ignore_index). */
    public static final long IGNORE = -100;

    private final int padId;
    private final Device device;
    private final Tensor inputIds, hiddenIndex, targets, sequenceOf;
    private final List<int[]> prompts, responses;   // kept for pairs(): sub-batches are packed again from them
    private int[] promptOf;      // which distinct prompt (numbered as first seen) each sequence continues; computed once
    private int distinctPrompts;

    public SequenceBatch(List<int[]> prompts, List<int[]> responses, int padId, Device device) {
        if (prompts.size() != responses.size()) throw new IllegalArgumentException("prompts and responses differ in number");
        long total = 0;
        for (int b = 0; b < prompts.size(); b++) total += (long) prompts.get(b).length + responses.get(b).length;
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("a batch of " + total + " tokens is more than one batch can index");
        this.padId = padId;
        this.device = device;
        this.prompts = prompts.stream().map(int[]::clone).toList();
        this.responses = responses.stream().map(int[]::clone).toList();
        batch = prompts.size();
        promptLengths = new int[batch];
        responseLengths = new int[batch];
        int t = 1, n = 0;
        for (int b = 0; b < batch; b++) {
            promptLengths[b] = prompts.get(b).length;
            responseLengths[b] = responses.get(b).length;
            if (promptLengths[b] == 0 && responseLengths[b] > 0)
                throw new IllegalArgumentException("sequence " + b + ": an empty prompt leaves the first response token without context");
            t = Math.max(t, promptLengths[b] + responseLengths[b]);
            n += responseLengths[b];
        }
        length = t;
        responseTokens = n;
        if ((long) batch * t > Integer.MAX_VALUE)
            throw new IllegalArgumentException("a batch of " + batch + " sequences of " + t + " positions is more than one batch can index");
        long[] ids = new long[batch * t];
        java.util.Arrays.fill(ids, padId);
        long[] idx = new long[n], tgt = new long[n], seq = new long[n];
        int j = 0;
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b), r = responses.get(b);
            for (int i = 0; i < p.length; i++) ids[b * t + i] = p[i];
            for (int i = 0; i < r.length; i++) {
                ids[b * t + p.length + i] = r[i];
                idx[j] = (long) b * t + p.length + i - 1;
                tgt[j] = r[i];
                seq[j] = b;
                j++;
            }
        }
        inputIds = longs(ids, batch, t).to(device, torch.ScalarType.Long);
        hiddenIndex = longs(idx, n).to(device, torch.ScalarType.Long);
        targets = longs(tgt, n).to(device, torch.ScalarType.Long);
        sequenceOf = longs(seq, n).to(device, torch.ScalarType.Long);
    }

    /**
     * For a batch laid out as pairs (P chosen sequences, then the P rejected ones to the same
     * prompts): the pairs [from, to) as a batch of their own in the same layout, packed again
     * (its length is its own longest sequence). Close it.
     */
    public SequenceBatch pairs(int from, int to) {
        if (batch % 2 != 0) throw new IllegalStateException("a batch of " + batch + " sequences is not laid out as pairs");
        int p = batch / 2;
        if (from < 0 || to > p || from >= to)
            throw new IllegalArgumentException("pairs [" + from + ", " + to + ") of a batch of " + p + " pairs");
        List<int[]> ps = new java.util.ArrayList<>(prompts.subList(from, to)), rs = new java.util.ArrayList<>(responses.subList(from, to));
        ps.addAll(prompts.subList(p + from, p + to));
        rs.addAll(responses.subList(p + from, p + to));
        return new SequenceBatch(ps, rs, padId, device);
    }

    /**
     * The batch with each distinct prompt once ({@link CausalLM#hiddenSharingPrompts}): promptIds
     * [U,Tp] and responseIds [R,Tr] right-padded, promptOfRow [R] (which prompt row each sequence
     * continues), promptLengthOfRow [R], and gather [R*T]: for each slot of {@link #inputIds()}
     * the row of [prompt states (U*Tp); response states (R*Tr)] that holds its state (padding: 0).
     */
    public record SharedPrompts(Tensor promptIds, Tensor responseIds, Tensor promptOfRow, Tensor promptLengthOfRow,
                                Tensor gather, int prompts, int length) implements AutoCloseable {
        @Override
        public void close() {
            promptIds.close();
            responseIds.close();
            promptOfRow.close();
            promptLengthOfRow.close();
            gather.close();
        }
    }

    /** How many distinct prompts the batch's sequences continue. */
    public int distinctPrompts() {
        promptOf();
        return distinctPrompts;
    }

    private int[] promptOf() {
        if (promptOf == null) {
            java.util.Map<java.util.List<Integer>, Integer> index = new java.util.HashMap<>();
            int[] of = new int[batch];
            for (int b = 0; b < batch; b++)
                of[b] = index.computeIfAbsent(java.util.Arrays.stream(prompts.get(b)).boxed().toList(), k -> index.size());
            distinctPrompts = index.size();
            promptOf = of;
        }
        return promptOf;
    }

    /** The batch laid out with each distinct prompt once (see {@link SharedPrompts}); close it. */
    public SharedPrompts sharedPrompts() {
        int[] of = promptOf();
        long[] promptRow = new long[batch], lengthOf = new long[batch];
        java.util.List<int[]> distinct = new java.util.ArrayList<>();
        int tp = 1, tr = 1;
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            if (of[b] == distinct.size()) distinct.add(p);
            promptRow[b] = of[b];
            lengthOf[b] = p.length;
            tp = Math.max(tp, p.length);
            tr = Math.max(tr, responses.get(b).length);
        }
        int u = distinct.size();
        long[] pids = new long[u * tp], rids = new long[batch * tr], gather = new long[batch * length];
        java.util.Arrays.fill(pids, padId);
        java.util.Arrays.fill(rids, padId);
        for (int i = 0; i < u; i++) {
            int[] p = distinct.get(i);
            for (int t = 0; t < p.length; t++) pids[i * tp + t] = p[t];
        }
        for (int b = 0; b < batch; b++) {
            int[] r = responses.get(b);
            for (int t = 0; t < r.length; t++) rids[b * tr + t] = r[t];
            int lp = promptLengths[b];
            for (int t = 0; t < length; t++) {
                if (t < lp) gather[b * length + t] = promptRow[b] * tp + t;
                else if (t - lp < r.length) gather[b * length + t] = (long) u * tp + (long) b * tr + (t - lp);
            }
        }
        return new SharedPrompts(longs(pids, u, tp).to(device, torch.ScalarType.Long), longs(rids, batch, tr).to(device, torch.ScalarType.Long),
                longs(promptRow, batch).to(device, torch.ScalarType.Long), longs(lengthOf, batch).to(device, torch.ScalarType.Long),
                longs(gather, (long) batch * length).to(device, torch.ScalarType.Long), u, length);
    }

    /** An int64 tensor of the values; an empty one has no data pointer to copy into (all responses empty). */
    private static Tensor longs(long[] data, long... shape) {
        return data.length == 0 ? torch.empty(shape, Tensors.options(Tensors.LONG), null) : Tensors.fromLongs(data, shape);
    }

    public int batch() { return batch; }
    public int length() { return length; }
    public int responseTokens() { return responseTokens; }
    public int[] promptLengths() { return promptLengths; }
    public int[] responseLengths() { return responseLengths; }
    /** int64 [B,T]. */
    public Tensor inputIds() { return inputIds; }
    /** int64 [N]: flat index into hidden.view(B*T, H) of the state that predicts each response token. */
    public Tensor hiddenIndex() { return hiddenIndex; }
    /** int64 [N]: the response tokens. */
    public Tensor targets() { return targets; }
    /** int64 [N]: which sequence each response token belongs to. */
    public Tensor sequenceOf() { return sequenceOf; }

    /**
     * Next-token labels [B,T] int64 in the layout of fused linear-cross-entropy kernels: position t
     * holds the token at t+1 when that token is a response token, {@link #IGNORE} otherwise.
     */
    public Tensor labels() {
        long[] labels = new long[batch * length];
        java.util.Arrays.fill(labels, IGNORE);
        long[] idx = Tensors.toLongs(hiddenIndex), tgt = Tensors.toLongs(targets);
        for (int j = 0; j < idx.length; j++) labels[(int) idx[j]] = tgt[j];
        return Tensors.fromLongs(labels, batch, length).to(device, torch.ScalarType.Long);
    }

    /**
     * The response tokens laid out per sequence, [B, R] with R the longest response: hiddenIndex
     * [B*R] is the flat index into hidden.view(B*T, H) of the state that predicts each slot's
     * token (padding slots: 0), labels [B, R] the token ({@link #IGNORE} at padding). The logits
     * of only these states are what a pairwise loss reads: half or less of [B,T] when prompts are as
     * long as responses.
     */
    public record ResponseSlots(Tensor hiddenIndex, Tensor labels, int length) implements AutoCloseable {
        @Override
        public void close() {
            hiddenIndex.close();
            labels.close();
        }
    }

    /** The batch's {@link ResponseSlots}; close them. */
    public ResponseSlots responseSlots() {
        int r = 1;
        for (int len : responseLengths) r = Math.max(r, len);
        long[] idx = new long[batch * r], labels = new long[batch * r];
        java.util.Arrays.fill(labels, IGNORE);
        for (int b = 0; b < batch; b++) {
            int[] resp = responses.get(b);
            for (int j = 0; j < resp.length; j++) {
                idx[b * r + j] = (long) b * length + promptLengths[b] + j - 1;
                labels[b * r + j] = resp[j];
            }
        }
        return new ResponseSlots(longs(idx, (long) batch * r).to(device, torch.ScalarType.Long),
                longs(labels, batch, r).to(device, torch.ScalarType.Long), r);
    }

    /** The hidden states that predict the response tokens: [N,H] from [B,T,H] (differentiable). */
    public Tensor responseHidden(Tensor hidden) {
        return hidden.reshape(-1, hidden.size(2)).index_select(0, hiddenIndex);
    }

    @Override
    public void close() {
        inputIds.close();
        hiddenIndex.close();
        targets.close();
        sequenceOf.close();
    }
}
