package org.dnonative.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model as HF's tokenizers runs it: a piece starts as one symbol per character (with
 * {@code continuing_subword_prefix} / {@code end_of_word_suffix}, byte fallback to {@code <0xNN>}
 * tokens, or the unk token, fused when {@code fuse_unk}), then the lowest-ranked adjacent pair is
 * merged until none merges. The pairs sit in a binary heap ordered by (rank, position) over a
 * linked list of symbols, so a word of n symbols costs O(n log n) (a SentencePiece-style
 * tokenizer such as Llama 2's makes the whole text one word). {@code ignore_merges}: a piece that is
 * itself in the vocabulary is one token. Characters with no token, no byte fallback and no unk
 * token are dropped, as HF drops them.
 */
final class BpeModel implements TokenModel {
    private static final int CACHE_MAX_PIECE = 256, CACHE_MAX_ENTRIES = 100_000;

    private final Vocab vocab;
    private final PairMap merges;
    private final int[] charId = new int[65536];   // one-unit tokens without prefix/suffix, -1 = none
    private final int[] byteId = new int[256];     // <0xNN> tokens, -1 = none
    private final boolean byteFallback, ignoreMerges, fuseUnk;
    private final int unk;                         // -1 = no unk token
    private final String prefix, suffix;           // null = none (HF treats "" the same)
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * {@code merges}: {@link TokenizerFile#merges}, (left, right, left+right) ids in rank order;
     * {@code badMerge}: the first merge with a token outside the vocabulary, or null; {@code charIds},
     * {@code byteIds}: {@link TokenizerFile#charIds}, {@link TokenizerFile#byteIds}.
     */
    BpeModel(Vocab vocab, IntList charIds, IntList byteIds, int[] merges, int mergeCount, String badMerge, String unkToken, boolean byteFallback,
             boolean ignoreMerges, boolean fuseUnk, String prefix, String suffix, String source) {
        this.vocab = vocab;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.fuseUnk = fuseUnk;
        this.prefix = prefix == null || prefix.isEmpty() ? null : prefix;
        this.suffix = suffix == null || suffix.isEmpty() ? null : suffix;
        if (unkToken != null) {
            unk = vocab.get(unkToken);
            if (unk < 0) throw new TokenizerException(source + ": BPE unk_token '" + unkToken + "' is not in the vocabulary");
        } else unk = -1;
        Arrays.fill(charId, -1);
        Arrays.fill(byteId, -1);
        // in file order: a repeated token ends with its last id, as in the vocab
        for (int k = 0; k < charIds.size(); k += 2) charId[charIds.array()[k]] = charIds.array()[k + 1];
        for (int k = 0; k < byteIds.size(); k += 2) byteId[byteIds.array()[k]] = byteIds.array()[k + 1];
        if (badMerge != null) throw new TokenizerException(source + ": merge '" + badMerge + "' uses a token outside the vocabulary");
        this.merges = new PairMap(mergeCount);
        for (int rank = 0, k = 0; rank < mergeCount; k++)   // warmed up, then in chunks: see TokenizerFile.WARM_UP
            rank = putMerges(rank, Math.min(mergeCount, rank + (k < TokenizerFile.WARM_UP ? 1 : TokenizerFile.CHUNK)), merges, source);
    }

    /** The merges of ranks [from, to); returns to. */
    private int putMerges(int from, int to, int[] merges, String source) {
        for (int rank = from; rank < to; rank++) putMerge(rank, merges, source);
        return to;
    }

    private void putMerge(int rank, int[] merges, String source) {
        int a = merges[3 * rank], b = merges[3 * rank + 1], merged = merges[3 * rank + 2];
        if (prefix != null) {   // HF's merged token is left + right less the prefix (rare: BERT-style vocabularies)
            String right = vocab.token(b).startsWith(prefix) ? vocab.token(b).substring(prefix.length()) : vocab.token(b);
            merged = vocab.get(vocab.token(a).concat(right));
        }
        if (merged < 0) throw new TokenizerException(source + ": merge '" + vocab.token(a) + " " + vocab.token(b) + "' uses a token outside the vocabulary");
        this.merges.put(a, b, rank, merged);
    }

    @Override
    public void tokenize(String piece, IntList out) {
        if (ignoreMerges) {
            int whole = vocab.get(piece);
            if (whole >= 0) { out.add(whole); return; }
        }
        boolean cacheable = piece.length() < CACHE_MAX_PIECE;
        if (cacheable) {
            int[] hit = cache.get(piece);
            if (hit != null) { out.addAll(hit); return; }
        }
        int[] ids = merge(symbols(piece));
        if (cacheable && cache.size() < CACHE_MAX_ENTRIES) cache.put(piece, ids);
        out.addAll(ids);
    }

    /** The initial symbols of a piece (HF's merge_word before merge_all). */
    private IntList symbols(String w) {
        IntList syms = new IntList();
        int pendingUnk = -1; // HF keeps one unk back so that fuse_unk can extend it
        for (int i = 0; i < w.length(); ) {
            int cp = w.codePointAt(i);
            int len = Character.charCount(cp);
            boolean isFirst = i == 0, isLast = i + len == w.length();
            int id;
            String s = null;
            if (cp < 0x10000 && (prefix == null || isFirst) && (suffix == null || !isLast)) id = charId[cp];
            else {
                s = w.substring(i, i + len);
                if (prefix != null && !isFirst) s = prefix + s;
                if (suffix != null && isLast) s = s + suffix;
                id = vocab.get(s);
            }
            i += len;
            if (id >= 0) {
                if (pendingUnk >= 0) { syms.add(pendingUnk); pendingUnk = -1; }
                syms.add(id);
                continue;
            }
            if (byteFallback) {
                byte[] bytes = (s != null ? s : new String(Character.toChars(cp))).getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) if (byteId[b & 0xff] < 0) { all = false; break; }
                if (all) {                   // as HF: a pending unk stays pending across byte tokens
                    for (byte b : bytes) syms.add(byteId[b & 0xff]);
                    continue;
                }
            }
            if (unk < 0) continue;           // no unk token: HF drops the character
            if (pendingUnk >= 0 && !fuseUnk) syms.add(pendingUnk);
            pendingUnk = unk;
        }
        if (pendingUnk >= 0) syms.add(pendingUnk);
        return syms;
    }

    /** HF's Word::merge_all: the lowest (rank, position) pair first; entries made stale by a merge are skipped. */
    private int[] merge(IntList syms) {
        int n = syms.size();
        int[] id = syms.array();
        if (n < 2) return syms.toArray();
        int[] prev = new int[n], next = new int[n];
        boolean[] gone = new boolean[n];
        long[] heap = new long[n + 16];
        int hs = 0;
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        for (int i = 0; i + 1 < n; i++) {
            long m = merges.get(id[i], id[i + 1]);
            if (m >= 0) heap[hs++] = (m & 0xffffffff00000000L) | i;
        }
        for (int k = hs / 2 - 1; k >= 0; k--) siftDown(heap, hs, k);
        int alive = n;
        while (hs > 0) {
            long top = heap[0];
            heap[0] = heap[--hs];
            siftDown(heap, hs, 0);
            int pos = (int) top;
            int right = next[pos];
            if (gone[pos] || right < 0) continue;
            long m = merges.get(id[pos], id[right]);
            if (m < 0 || (m >>> 32) != (top >>> 32)) continue;   // stale: this pair changed since it was queued
            id[pos] = (int) m;
            gone[right] = true;
            alive--;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (hs + 2 > heap.length) heap = Arrays.copyOf(heap, heap.length * 2);
            if (prev[pos] >= 0) {
                long p = merges.get(id[prev[pos]], id[pos]);
                if (p >= 0) hs = push(heap, hs, (p & 0xffffffff00000000L) | prev[pos]);
            }
            if (next[pos] >= 0) {
                long q = merges.get(id[pos], id[next[pos]]);
                if (q >= 0) hs = push(heap, hs, (q & 0xffffffff00000000L) | pos);
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i >= 0 && k < alive; i = next[i]) out[k++] = id[i];
        return out;
    }

    private static int push(long[] heap, int hs, long v) {
        int i = hs++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= v) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = v;
        return hs;
    }

    private static void siftDown(long[] heap, int hs, int i) {
        long v = heap[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= hs) break;
            if (c + 1 < hs && heap[c + 1] < heap[c]) c++;
            if (heap[c] >= v) break;
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = v;
    }
}
