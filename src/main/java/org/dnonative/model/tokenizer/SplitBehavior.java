package org.dnonative.model.tokenizer;

import java.util.List;

/** HF's SplitDelimiterBehavior: what becomes of the matches of a Split pattern and of the text between them. */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior of(String name, String where) {
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> throw new TokenizerException(where + ": split behavior '" + name + "' is not supported");
        };
    }

    /** Appends to {@code out} the pieces of {@code s}; {@code invert} swaps what counts as a match. */
    void split(String s, HfRegex pattern, boolean invert, List<String> out) {
        IntList spans = new IntList(); // triples: start, end, 1 if a match
        int[] pos = {0};
        pattern.findAll(s, (start, end) -> {
            if (start > pos[0]) spans.add(pos[0]).add(start).add(invert ? 1 : 0);
            spans.add(start).add(end).add(invert ? 0 : 1);
            pos[0] = end;
        });
        if (pos[0] == 0 && spans.size() == 0) {                   // no match: the common case for short pieces
            if (!s.isEmpty() && !(this == REMOVED && invert)) out.add(s);
            return;
        }
        if (pos[0] < s.length()) spans.add(pos[0]).add(s.length()).add(invert ? 1 : 0);
        int[] a = spans.array();
        int n = spans.size();
        switch (this) {
            case ISOLATED -> { for (int k = 0; k < n; k += 3) out.add(s.substring(a[k], a[k + 1])); }
            case REMOVED -> { for (int k = 0; k < n; k += 3) if (a[k + 2] == 0) out.add(s.substring(a[k], a[k + 1])); }
            case MERGED_WITH_PREVIOUS -> {
                int from = -1;
                for (int k = 0; k < n; k += 3) {
                    if (from < 0) from = a[k];
                    if (a[k + 2] == 1) { out.add(s.substring(from, a[k + 1])); from = -1; }
                }
                if (from >= 0) out.add(s.substring(from));
            }
            case MERGED_WITH_NEXT -> {
                int from = -1;
                for (int k = 0; k < n; k += 3) {
                    if (a[k + 2] == 1 && from >= 0) { out.add(s.substring(from, a[k])); from = -1; }
                    if (from < 0) from = a[k];
                }
                if (from >= 0) out.add(s.substring(from));
            }
            case CONTIGUOUS -> {
                int from = -1, last = -1;
                for (int k = 0; k < n; k += 3) {
                    if (a[k + 2] != last && from >= 0) { out.add(s.substring(from, a[k])); from = -1; }
                    if (from < 0) from = a[k];
                    last = a[k + 2];
                }
                if (from >= 0) out.add(s.substring(from));
            }
        }
    }
}
