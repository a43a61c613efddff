package org.dnonative.model.tokenizer;

import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** tokenizer.json's "normalizer": NFC/NFD/NFKC/NFKD, Lowercase, Prepend, Replace, Strip, Sequence. */
final class Normalizers {
    private Normalizers() {}

    interface Normalizer { String apply(String s); }

    /**
     * The normalizer described by {@code n}, or null when there is none (or it changes nothing).
     * Code that runs while a tokenizer loads joins strings with concat, not +: javac compiles + to
     * invokedynamic, whose first bootstrap costs ~10-20 ms in a fresh JVM (error messages may use +).
     */
    static Normalizer of(Json n, String where) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence": {
                List<Normalizer> list = new ArrayList<>();
                for (Json c : n.path("normalizers")) { Normalizer x = of(c, where); if (x != null) list.add(x); }
                if (list.isEmpty()) return null;
                if (list.size() == 1) return list.get(0);
                return s -> { for (Normalizer x : list) s = x.apply(s); return s; };
            }
            case "NFC": return unicode(Form.NFC);
            case "NFKC": return unicode(Form.NFKC);
            case "NFD": return unicode(Form.NFD);
            case "NFKD": return unicode(Form.NFKD);
            case "Lowercase": return s -> s.toLowerCase(Locale.ROOT);
            case "Prepend": {
                String p = text(n, "prepend", where);
                return s -> s.isEmpty() ? s : p.concat(s);
            }
            case "Replace": {
                HfRegex p = Patterns.of(n.get("pattern"), where.concat(": normalizer Replace"));
                String content = text(n, "content", where);
                return s -> p.replaceAll(s, content);
            }
            case "Strip": {
                boolean left = n.path("strip_left").asBoolean(true), right = n.path("strip_right").asBoolean(true);
                return s -> UnicodeSpace.strip(s, left, right);
            }
            default: throw new TokenizerException(where + ": normalizer '" + type + "' is not supported");
        }
    }

    private static Normalizer unicode(Form form) {
        return s -> java.text.Normalizer.isNormalized(s, form) ? s : java.text.Normalizer.normalize(s, form);
    }

    static String text(Json n, String field, String where) {
        Json v = n.get(field);
        if (v == null || !v.isTextual()) throw new TokenizerException(where + ": " + n.path("type").asText() + " has no text '" + field + "'");
        return v.asText();
    }
}
