package org.dnonative.model.tokenizer;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * Makes java.util.regex see HF's Unicode categories. HF's regex engine (Oniguruma in tokenizers)
 * has newer tables than the running JDK (JDK 17: Unicode 13), so `\p{L}` and friends disagree on
 * code points assigned since (U+11F04 is a letter to HF, unassigned to JDK 17). Rather than
 * spell out thousand-range classes (slow in java.util.regex), the text handed to a regex has each
 * such code point replaced by a stand-in the JDK puts in HF's category, of the same UTF-16
 * length, so match offsets are the offsets in the real text. Built once, on first use, from
 * {@link HfUnicodeTable} against whatever JDK runs: on a JDK whose tables match, nothing is mapped.
 */
final class UnicodeCompat {
    private static volatile UnicodeCompat instance;

    private final BitSet differs = new BitSet(0x110000);
    private final Map<Integer, Integer> standIn = new HashMap<>();
    /** The first code point that differs (most text has none above it: a quick test first). */
    private final int first;

    private UnicodeCompat() {
        int[] bmpRep = new int[32], suppRep = new int[32];
        java.util.Arrays.fill(bmpRep, -1);
        java.util.Arrays.fill(suppRep, -1);
        int cp = 0, lowest = Integer.MAX_VALUE;
        int[] starts = new int[8192];
        byte[] cats = new byte[8192];
        int n = 0;
        for (String chunk : HfUnicodeTable.RUNS) {
            for (int i = 0; i < chunk.length(); ) {
                int j = i, k;
                while ((k = HfUnicodeTable.ALPHABET.indexOf(chunk.charAt(j))) < 0) j++;
                if (n == starts.length) { starts = java.util.Arrays.copyOf(starts, n * 2); cats = java.util.Arrays.copyOf(cats, n * 2); }
                starts[n] = Integer.parseInt(chunk, i, j, 16);
                cats[n++] = (byte) k;
                i = j + 1;
            }
        }
        for (int r = 0; r < n; r++) {
            int end = r + 1 < n ? starts[r + 1] : 0x110000, hf = cats[r];
            for (cp = starts[r]; cp < end; cp++) {
                int jdk = Character.getType(cp);
                if (jdk == hf) {
                    int[] reps = cp < 0x10000 ? bmpRep : suppRep;
                    if (reps[hf] < 0 && !Character.isWhitespace(cp) && cp >= 0x80) reps[hf] = cp;
                    continue;
                }
                differs.set(cp);
                lowest = Math.min(lowest, cp);
            }
        }
        for (int c = differs.nextSetBit(0); c >= 0; c = differs.nextSetBit(c + 1)) {
            int hf = categoryOf(c, starts, cats, n);
            int rep = (c < 0x10000 ? bmpRep : suppRep)[hf];
            if (rep < 0) throw new IllegalStateException("no stand-in for U+" + Integer.toHexString(c) + " (category " + hf + ")");
            standIn.put(c, rep);
        }
        first = lowest;
    }

    private static int categoryOf(int cp, int[] starts, byte[] cats, int n) {
        int k = java.util.Arrays.binarySearch(starts, 0, n, cp);
        return cats[k >= 0 ? k : -k - 2];
    }

    static UnicodeCompat get() {
        UnicodeCompat u = instance;
        if (u == null) {
            synchronized (UnicodeCompat.class) {
                if (instance == null) instance = new UnicodeCompat();
                u = instance;
            }
        }
        return u;
    }

    /** How many code points the running JDK puts in another category than HF does. */
    int differingCodePoints() { return differs.cardinality(); }

    /** The text as HF's categories would have the JDK see it (the same object when nothing differs). */
    CharSequence map(String text) {
        int n = text.length(), i = 0;
        for (; i < n; i++) {
            char c = text.charAt(i);
            if (c < first) continue;
            int cp = text.codePointAt(i);
            if (differs.get(cp)) break;
            if (cp >= 0x10000) i++;
        }
        if (i >= n) return text;
        char[] out = text.toCharArray();
        for (; i < n; i++) {
            if (out[i] < first) continue;
            int cp = Character.codePointAt(out, i);
            if (differs.get(cp)) Character.toChars(standIn.get(cp), out, i);
            if (cp >= 0x10000) i++;
        }
        return java.nio.CharBuffer.wrap(out);
    }
}
