package org.dnonative.model.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * tokenizer.json's "added_tokens" and how HF finds them in text: leftmost-longest matches (HF uses
 * Aho-Corasick; here a trie walked from each position, linear in the text for the short tokens
 * these are), tokens with {@code normalized: false} matched in the raw text and the others in the
 * normalized text (their content normalized too), then {@code single_word}, {@code lstrip} and
 * {@code rstrip} applied to each match exactly as HF's AddedVocabulary does.
 */
final class AddedVocabulary {
    record Token(String content, int id, boolean special, boolean lstrip, boolean rstrip, boolean singleWord, boolean normalized) {}

    /** Receives the pieces of a text: added tokens, and the text between them (atStart: at offset 0). */
    interface Sink {
        void token(int id);
        void text(String s, boolean atStart);
    }

    private final Trie raw, normalized;

    AddedVocabulary(List<Token> tokens, Normalizers.Normalizer normalizer) {
        List<Token> r = new ArrayList<>(), n = new ArrayList<>();
        for (Token t : tokens) if (!t.content().isEmpty()) (t.normalized() ? n : r).add(t);
        raw = r.isEmpty() ? null : new Trie(r, null);
        normalized = n.isEmpty() ? null : new Trie(n, normalizer);
    }

    /** Splits on the tokens that are matched before normalisation. */
    void splitRaw(String text, Sink sink) { split(raw, text, sink); }

    /** Splits a normalized piece on the tokens that are matched after normalisation. */
    void splitNormalized(String text, Sink sink) { split(normalized, text, sink); }

    private static void split(Trie trie, String s, Sink sink) {
        if (trie == null) { if (!s.isEmpty()) sink.text(s, true); return; }
        int from = 0;             // HF's start_offset: where the text not yet emitted begins
        int i = 0, n = s.length();
        while (i < n) {
            long m = trie.longestAt(s, i);
            if (m < 0) { i++; continue; }
            int stopAt = (int) (m >>> 32);
            Token t = trie.tokens.get((int) m);
            int start = i, stop = stopAt;
            i = stopAt;           // matches never overlap: the scan resumes after this one either way
            if (t.singleWord()) {
                boolean startSpace = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean stopSpace = stop == n || !isWordChar(s.codePointAt(stop));
                if (!startSpace || !stopSpace) continue;
            }
            if (t.lstrip()) {
                int b = start;
                while (b > 0 && UnicodeSpace.is(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
                start = Math.max(b, from);
            }
            if (t.rstrip()) {
                while (stop < n && UnicodeSpace.is(s.codePointAt(stop))) stop += Character.charCount(s.codePointAt(stop));
                i = Math.max(i, stop);
            }
            if (from < start) sink.text(s.substring(from, start), from == 0);
            sink.token(t.id());
            from = stop;
        }
        if (from < n) sink.text(s.substring(from), from == 0);
    }

    /** Rust's char::is_alphanumeric (Alphabetic or Numeric), as HF's single_word test uses. */
    private static boolean isWordChar(int cp) {
        int type = Character.getType(cp);
        return Character.isAlphabetic(cp) || type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    /** A trie over UTF-16 units: the first unit through a table, the rest through one hash map of edges. */
    private static final class Trie {
        final List<Token> tokens;
        private final int[] first = new int[65536];      // first unit -> node, 0 = none
        private final Map<Long, Integer> edges = new HashMap<>();
        private final IntList terminal = new IntList();  // node -> index in tokens, -1 = none

        Trie(List<Token> list, Normalizers.Normalizer normalizer) {
            tokens = list;
            terminal.add(-1); // node 0: the root
            for (int k = 0; k < list.size(); k++) {
                String c = list.get(k).content();
                if (normalizer != null) c = normalizer.apply(c);
                if (c.isEmpty()) continue;
                int node = first[c.charAt(0)];
                if (node == 0) { node = newNode(); first[c.charAt(0)] = node; }
                for (int j = 1; j < c.length(); j++) {
                    long key = ((long) node << 16) | c.charAt(j);
                    Integer next = edges.get(key);
                    if (next == null) { next = newNode(); edges.put(key, next); }
                    node = next;
                }
                if (terminal.array()[node] < 0) terminal.array()[node] = k; // the first of equal contents wins
            }
        }

        private int newNode() { terminal.add(-1); return terminal.size() - 1; }

        /** (end << 32 | token index) of the longest token starting at {@code i}, or -1. */
        long longestAt(String s, int i) {
            int node = first[s.charAt(i)];
            if (node == 0) return -1;
            long best = -1;
            int j = i + 1;
            while (true) {
                int t = terminal.array()[node];
                if (t >= 0) best = ((long) j << 32) | t;
                if (j >= s.length()) break;
                Integer next = edges.get(((long) node << 16) | s.charAt(j));
                if (next == null) break;
                node = next;
                j++;
            }
            return best;
        }
    }
}
