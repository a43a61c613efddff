package org.dnonative.model.tokenizer;

import java.util.Arrays;

/** BPE merges: (left id, right id) -> (rank, merged id), open addressing over primitive longs (no boxing in the merge loop). */
final class PairMap {
    private static final long EMPTY = -1L;
    private long[] keys;
    private long[] values;
    private int mask, size;

    PairMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new long[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
    }

    private static long key(int a, int b) { return ((long) a << 32) | (b & 0xffffffffL); }

    private static int slot(long k, int mask) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** Sets the entry (a later merge of the same pair replaces an earlier one, as HF's map does). */
    void put(int a, int b, int rank, int merged) {
        if ((size + 1) * 2 > keys.length) grow();
        long k = key(a, b);
        int i = slot(k, mask);
        while (keys[i] != EMPTY && keys[i] != k) i = (i + 1) & mask;
        if (keys[i] == EMPTY) size++;
        keys[i] = k;
        values[i] = ((long) rank << 32) | (merged & 0xffffffffL);
    }

    /** (rank << 32 | merged id), or -1 when the pair does not merge. */
    long get(int a, int b) {
        long k = key(a, b);
        int i = slot(k, mask);
        while (true) {
            long found = keys[i];
            if (found == k) return values[i];
            if (found == EMPTY) return -1;
            i = (i + 1) & mask;
        }
    }

    private void grow() {
        long[] ok = keys, ov = values;
        keys = new long[ok.length * 2];
        values = new long[ok.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        for (int j = 0; j < ok.length; j++) {
            if (ok[j] == EMPTY) continue;
            int i = slot(ok[j], mask);
            while (keys[i] != EMPTY) i = (i + 1) & mask;
            keys[i] = ok[j];
            values[i] = ov[j];
        }
    }
}
