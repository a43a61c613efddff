package org.dnonative.model.tokenizer;

/**
 * The model's vocabulary, token to id: open addressing over the tokens and their String hash codes,
 * without boxing. Besides a String it can be probed with a token's UTF-8 bytes as they stand in
 * tokenizer.json, or two adjacent runs of them (a merge's left and right token, whose concatenation
 * is the merged token): so a load resolves tens of thousands of merges to ids without making three
 * Strings for each (for Llama 2, ~12 MB of garbage and a GC pause in a fresh JVM, before this).
 * Both probes use String.hashCode of the UTF-16 text.
 */
final class Vocab {
    static final int NONE = -1;

    private String[] keys;
    private int[] hashes, ids;
    private int mask, size;

    Vocab(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new String[cap];
        hashes = new int[cap];
        ids = new int[cap];
        mask = cap - 1;
    }

    int size() { return size; }

    /** Sets the token's id (ids are not negative); returns the id it had, or NONE. */
    int put(String token, int id) {
        if ((size + 1) * 2 > keys.length) grow();
        int h = token.hashCode(), i = slot(h);
        while (keys[i] != null) {
            if (hashes[i] == h && keys[i].equals(token)) { int before = ids[i]; ids[i] = id; return before; }
            i = (i + 1) & mask;
        }
        keys[i] = token;
        hashes[i] = h;
        ids[i] = id;
        size++;
        return NONE;
    }

    /** The token's id, or NONE. */
    int get(String token) {
        int h = token.hashCode();
        for (int i = slot(h); keys[i] != null; i = (i + 1) & mask)
            if (hashes[i] == h && keys[i].equals(token)) return ids[i];
        return NONE;
    }

    /**
     * The id of the token whose UTF-8 bytes are {@code b[from, to)} followed by {@code b[from2, to2)}
     * (an empty second run: just the first), or NONE; {@code hash}: String.hashCode of that text
     * (JsonScanner computes it while checking the bytes).
     */
    int get(int hash, byte[] b, int from, int to, int from2, int to2) {
        for (int i = slot(hash); keys[i] != null; i = (i + 1) & mask) {
            if (hashes[i] != hash) continue;
            String k = keys[i];
            int at = match(k, 0, b, from, to);
            if (at >= 0) at = match(k, at, b, from2, to2);
            if (at == k.length()) return ids[i];
        }
        return NONE;
    }

    private int slot(int h) { return (h ^ (h >>> 16)) * 0x9E3779B9 >>> 8 & mask; }

    /** Whether {@code key} continues at {@code at} with the UTF-8 text b[from, to): the index after it, or -1. */
    private static int match(String key, int at, byte[] b, int from, int to) {
        int n = key.length();
        for (int k = from; k < to; ) {
            int c = b[k];
            if (c >= 0) {
                if (at >= n || key.charAt(at) != c) return -1;
                at++;
                k++;
                continue;
            }
            int cp;
            if ((c & 0xE0) == 0xC0) { cp = (c & 0x1F) << 6 | b[k + 1] & 0x3F; k += 2; }
            else if ((c & 0xF0) == 0xE0) { cp = (c & 0x0F) << 12 | (b[k + 1] & 0x3F) << 6 | b[k + 2] & 0x3F; k += 3; }
            else {
                cp = (c & 0x07) << 18 | (b[k + 1] & 0x3F) << 12 | (b[k + 2] & 0x3F) << 6 | b[k + 3] & 0x3F;
                k += 4;
                if (at >= n || key.charAt(at) != Character.highSurrogate(cp)) return -1;
                at++;
                cp = Character.lowSurrogate(cp);
            }
            if (at >= n || key.charAt(at) != cp) return -1;
            at++;
        }
        return at;
    }

    private void grow() {
        String[] ok = keys;
        int[] oh = hashes, oi = ids;
        keys = new String[ok.length * 2];
        hashes = new int[ok.length * 2];
        ids = new int[ok.length * 2];
        mask = keys.length - 1;
        for (int j = 0; j < ok.length; j++) {
            if (ok[j] == null) continue;
            int i = slot(oh[j]);
            while (keys[i] != null) i = (i + 1) & mask;
            keys[i] = ok[j];
            hashes[i] = oh[j];
            ids[i] = oi[j];
        }
    }
}
