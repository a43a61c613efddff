package org.dnonative.model.tokenizer;

/**
 * BPE merges: (left id, right id) -> (rank, merged id), open addressing over primitive longs (no boxing
 * in the merge loop), each key beside its value (one cache line per probe).
 */
final class PairMap {
    // a key has its top bit set (ids are not negative), so 0 is an empty slot and a new array needs no fill
    // (a fill of the ~2 MB of Llama 2's map runs in the interpreter on a first load)
    private static final long EMPTY = 0;
    private long[] slots;   // key, value, key, value, ...
    private int mask, size;

    PairMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        slots = new long[2 * cap];
        mask = slots.length - 1 & ~1;
    }

    private static long key(int a, int b) { return Long.MIN_VALUE | ((long) a << 32) | (b & 0xffffffffL); }

    private static int slot(long k, int mask) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 39) & mask;
    }

    /** Sets the entry (a later merge of the same pair replaces an earlier one, as HF's map does). */
    void put(int a, int b, int rank, int merged) {
        if ((size + 1) * 4 > slots.length) grow();
        long k = key(a, b);
        int i = slot(k, mask);
        while (slots[i] != EMPTY && slots[i] != k) i = (i + 2) & mask;
        if (slots[i] == EMPTY) size++;
        slots[i] = k;
        slots[i + 1] = ((long) rank << 32) | (merged & 0xffffffffL);
    }

    /** (rank << 32 | merged id), or -1 when the pair does not merge. */
    long get(int a, int b) {
        long k = key(a, b);
        long[] s = slots;
        int i = slot(k, mask);
        while (true) {
            long found = s[i];
            if (found == k) return s[i + 1];
            if (found == EMPTY) return -1;
            i = (i + 2) & mask;
        }
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        mask = slots.length - 1 & ~1;
        for (int j = 0; j < old.length; j += 2) {
            if (old[j] == EMPTY) continue;
            int i = slot(old[j], mask);
            while (slots[i] != EMPTY) i = (i + 2) & mask;
            slots[i] = old[j];
            slots[i + 1] = old[j + 1];
        }
    }
}
