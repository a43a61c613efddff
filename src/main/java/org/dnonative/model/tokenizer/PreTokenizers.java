package org.dnonative.model.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** tokenizer.json's "pre_tokenizer": ByteLevel, Split, Digits, Whitespace, WhitespaceSplit, Metaspace, Sequence. */
final class PreTokenizers {
    private PreTokenizers() {}

    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    interface PreTokenizer {
        /** The pieces {@code in} splits into; {@code atStart}: the first piece begins the original text. */
        List<String> apply(List<String> in, boolean atStart);
    }

    static PreTokenizer of(Json n, String where) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        String at = where.concat(": pre_tokenizer ").concat(type);   // concat, not +: see Normalizers.of
        switch (type) {
            case "Sequence": {
                List<PreTokenizer> list = new ArrayList<>();
                for (Json c : n.path("pretokenizers")) { PreTokenizer x = of(c, where); if (x != null) list.add(x); }
                if (list.isEmpty()) return null;
                return (pieces, atStart) -> { for (PreTokenizer x : list) pieces = x.apply(pieces, atStart); return pieces; };
            }
            case "ByteLevel": {
                boolean prefix = n.path("add_prefix_space").asBoolean(true);
                HfRegex gpt2 = n.path("use_regex").asBoolean(true) ? HfRegex.regex(GPT2_PATTERN, at) : null;
                return (pieces, atStart) -> {
                    List<String> out = new ArrayList<>(pieces.size() * 2);
                    List<String> parts = new ArrayList<>();
                    for (String s : pieces) {
                        if (prefix && !s.startsWith(" ")) s = " " + s;   // HF adds it to every piece
                        if (gpt2 == null) { out.add(ByteLevel.encode(s)); continue; }
                        parts.clear();
                        SplitBehavior.ISOLATED.split(s, gpt2, false, parts);
                        for (String part : parts) out.add(ByteLevel.encode(part));
                    }
                    return out;
                };
            }
            case "Split": {
                HfRegex p = Patterns.of(n.get("pattern"), at);
                return splitting(p, SplitBehavior.of(n.path("behavior").asText("Isolated"), at), n.path("invert").asBoolean(false));
            }
            case "Digits":
                return splitting(HfRegex.regex(n.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+", at),
                        SplitBehavior.ISOLATED, false);
            case "Whitespace":
                return splitting(HfRegex.regex("\\w+|[^\\w\\s]+", at), SplitBehavior.REMOVED, true);
            case "WhitespaceSplit":
                return (pieces, atStart) -> {
                    List<String> out = new ArrayList<>();
                    for (String s : pieces) {
                        int i = 0;
                        while (i < s.length()) {
                            while (i < s.length() && UnicodeSpace.is(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                            int b = i;
                            while (i < s.length() && !UnicodeSpace.is(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                            if (i > b) out.add(s.substring(b, i));
                        }
                    }
                    return out;
                };
            case "Metaspace": {
                String rep = n.path("replacement").asText("\u2581");
                String scheme = n.path("prepend_scheme").asText(n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                if (!List.of("always", "first", "never").contains(scheme))
                    throw new TokenizerException(at + ": prepend_scheme '" + scheme + "' is not supported");
                boolean splitPieces = n.path("split").asBoolean(true);
                HfRegex p = HfRegex.literal(rep);
                return (pieces, atStart) -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < pieces.size(); i++) {
                        String s = pieces.get(i).replace(" ", rep);
                        boolean prepend = scheme.equals("always") || scheme.equals("first") && i == 0 && atStart;
                        if (prepend && !s.startsWith(rep)) s = rep + s;
                        if (splitPieces) SplitBehavior.MERGED_WITH_NEXT.split(s, p, false, out);
                        else out.add(s);
                    }
                    return out;
                };
            }
            default: throw new TokenizerException(at + " is not supported");
        }
    }

    private static PreTokenizer splitting(HfRegex p, SplitBehavior behavior, boolean invert) {
        return (pieces, atStart) -> {
            List<String> out = new ArrayList<>(pieces.size() * 4);
            for (String s : pieces) behavior.split(s, p, invert, out);
            return out;
        };
    }
}
