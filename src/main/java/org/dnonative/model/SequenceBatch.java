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
