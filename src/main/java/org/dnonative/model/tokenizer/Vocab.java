package org.dnonative.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The model's vocabulary, token to id and id to token, kept as the tokens' UTF-8 bytes where they
 * stand in tokenizer.json (a token written with escapes: its bytes in a side pool). Why: a load
 * in a fresh JVM runs mostly interpreted or in the JIT's first tier, and there making one String per
 * token (UTF-8 decoding) and three per merge cost more than all the rest of reading the file; here
 * a token becomes a String only when {@link #token} is asked for it (decoding), and merges are
 * resolved by comparing bytes. Open addressing over String.hashCode of each token's text (so a
 * String and the bytes of a token probe alike, JsonScanner computes it while checking the bytes),
 * without boxing.
 */
final class Vocab {
    static final int NONE = -1;

    private final byte[] src;
    private byte[] side = new byte[64];            // tokens written with escapes, as UTF-8
    private int sideSize;
    // per slot, side by side (one cache line per probe): String hash, where the bytes are (> 0: src[off, off + len);
    // < 0: side[-off - 1, ...); 0: an empty slot), their length, the id
    private static final int HASH = 0, OFF = 1, LEN = 2, ID = 3;
    private int[] table;
    private int mask, size;
    // per id: where its token's bytes are (0: no token has the id), and the Strings made so far
    private int[] offById = new int[0], lenById = new int[0];
    private String[] strings = new String[0];
    private int maxId = -1;

    /** {@code src}: the bytes of tokenizer.json; {@code expected}: about how many tokens. */
    Vocab(byte[] src, int expected) {
        this.src = src;
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        table = new int[4 * cap];
        mask = table.length - 1 & ~3;
    }

    int size() { return size; }

    /** The largest id, -1 when empty. */
    int maxId() { return maxId; }

    /** Adds the token src[from, to) (no escapes) with String hash {@code hash}; returns the id it had, or NONE. */
    int put(int hash, int from, int to, int id) { return add(hash, from, to - from, id); }

    /** Adds a token written with escapes; returns the id it had, or NONE. */
    int put(String token, int id) {
        byte[] u = token.getBytes(StandardCharsets.UTF_8);
        if (sideSize + u.length > side.length) side = Arrays.copyOf(side, Math.max(side.length * 2, sideSize + u.length));
        System.arraycopy(u, 0, side, sideSize, u.length);
        sideSize += u.length;
        return add(token.hashCode(), -(sideSize - u.length) - 1, u.length, id);
    }

    /** A repeated token keeps its last id, as HF's map does, and its earlier id no longer decodes to it. */
    private int add(int hash, int off, int len, int id) {
        if ((size + 1) * 8 > table.length) grow();
        int[] t = table;
        byte[] pool = off > 0 ? src : side;
        int from = off > 0 ? off : -off - 1, before = NONE, i = slot(hash);
        for (; t[i + OFF] != 0; i = (i + 4) & mask) {
            if (t[i + HASH] == hash && same(i, pool, from, from + len, 0, 0)) {
                before = t[i + ID];
                if (before != id && offById[before] == t[i + OFF]) offById[before] = 0;
                break;
            }
        }
        if (before == NONE) {
            t[i + HASH] = hash;
            t[i + OFF] = off;
            t[i + LEN] = len;
            size++;
        }
        t[i + ID] = id;
        if (id >= offById.length) {
            int n = Math.max(id + 1, offById.length * 2 + 1024);
            offById = Arrays.copyOf(offById, n);
            lenById = Arrays.copyOf(lenById, n);
        }
        offById[id] = t[i + OFF];
        lenById[id] = t[i + LEN];
        maxId = Math.max(maxId, id);
        return before;
    }

    /** The token's id, or NONE. */
    int get(String token) {
        int h = token.hashCode();
        int[] t = table;
        for (int i = slot(h); t[i + OFF] != 0; i = (i + 4) & mask)
            if (t[i + HASH] == h && sameAs(i, token)) return t[i + ID];
        return NONE;
    }

    /**
     * The id of the token whose UTF-8 bytes are {@code b[from, to)} followed by {@code b[from2, to2)}
     * (an empty second run: just the first), or NONE; {@code hash}: String.hashCode of that text.
     */
    int get(int hash, byte[] b, int from, int to, int from2, int to2) {
        int[] t = table;
        for (int i = slot(hash); t[i + OFF] != 0; i = (i + 4) & mask)
            if (t[i + HASH] == hash && same(i, b, from, to, from2, to2)) return t[i + ID];
        return NONE;
    }

    /** The token with this id (made into a String on first use), or null. */
    String token(int id) {
        if (id < 0 || id > maxId || offById[id] == 0) return null;
        String[] s = strings;
        if (s.length <= maxId) strings = s = Arrays.copyOf(s, maxId + 1);   // racing threads at worst make a String twice
        String t = s[id];
        if (t == null) {
            int off = offById[id];
            s[id] = t = new String(off > 0 ? src : side, off > 0 ? off : -off - 1, lenById[id], StandardCharsets.UTF_8);
        }
        return t;
    }

    /** The table index of a hash's first slot (mask: 4 * capacity - 1 with the low two bits clear). */
    private int slot(int h) { return (h ^ (h >>> 16)) * 0x9E3779B9 >>> 6 & mask; }

    /** Whether slot i's token is the bytes b[from, to) then b[from2, to2). */
    private boolean same(int i, byte[] b, int from, int to, int from2, int to2) {
        int len = table[i + LEN], off = table[i + OFF];
        if (len != (to - from) + (to2 - from2)) return false;
        byte[] pool = off > 0 ? src : side;
        int k = off > 0 ? off : -off - 1;
        for (int j = from; j < to; j++, k++) if (pool[k] != b[j]) return false;
        for (int j = from2; j < to2; j++, k++) if (pool[k] != b[j]) return false;
        return true;
    }

    /** Whether slot i's token is the text {@code s}: its UTF-8 bytes compared as they are encoded. */
    private boolean sameAs(int i, String s) {
        int off = table[i + OFF];
        byte[] pool = off > 0 ? src : side;
        int k = off > 0 ? off : -off - 1, end = k + table[i + LEN];
        for (int j = 0; j < s.length(); j++) {
            int c = s.charAt(j);
            if (c < 0x80) {
                if (k >= end || pool[k++] != c) return false;
                continue;
            }
            if (Character.isHighSurrogate((char) c) && j + 1 < s.length() && Character.isLowSurrogate(s.charAt(j + 1))) {
                int cp = Character.toCodePoint((char) c, s.charAt(++j));
                if (k + 4 > end || pool[k] != (byte) (0xF0 | cp >> 18) || pool[k + 1] != (byte) (0x80 | cp >> 12 & 0x3F)
                        || pool[k + 2] != (byte) (0x80 | cp >> 6 & 0x3F) || pool[k + 3] != (byte) (0x80 | cp & 0x3F)) return false;
                k += 4;
            } else if (c < 0x800) {
                if (k + 2 > end || pool[k] != (byte) (0xC0 | c >> 6) || pool[k + 1] != (byte) (0x80 | c & 0x3F)) return false;
                k += 2;
            } else {
                // a lone surrogate has no UTF-8 form, so no token is one (the vocab's text is valid UTF-8)
                if (Character.isSurrogate((char) c)) return false;
                if (k + 3 > end || pool[k] != (byte) (0xE0 | c >> 12) || pool[k + 1] != (byte) (0x80 | c >> 6 & 0x3F)
                        || pool[k + 2] != (byte) (0x80 | c & 0x3F)) return false;
                k += 3;
            }
        }
        return k == end;
    }

    private void grow() {
        int[] old = table;
        table = new int[2 * old.length];
        mask = table.length - 1 & ~3;
        for (int j = 0; j < old.length; j += 4) {
            if (old[j + OFF] == 0) continue;
            int i = slot(old[j + HASH]);
            while (table[i + OFF] != 0) i = (i + 4) & mask;
            System.arraycopy(old, j, table, i, 4);
        }
    }
}
