package org.dnonative.model.tokenizer;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A tokenizer.json regex (written for Oniguruma, HF's engine, in its Ruby syntax) run by
 * java.util.regex with HF's meaning: constructs the two engines read differently are rewritten
 * ({@code \v}, {@code {,n}}, a literal {@code {}), constructs with no exact Java reading are refused
 * with the construct named, and the text is matched through {@link UnicodeCompat} so that
 * {@code \p{..}} classes use HF's Unicode tables, not the JDK's.
 */
final class HfRegex {
    /** General categories: the only \p{..} names whose tables {@link UnicodeCompat} corrects. */
    private static final Set<String> CATEGORIES = Set.of("L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me",
            "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
            "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Co", "Cn");
    // Ruby syntax: ^ and $ are line anchors and '.' stops only at \n.
    private static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE | Pattern.UNIX_LINES;

    private final Pattern pattern;
    private final boolean literal;
    private final String literalText;

    private HfRegex(Pattern pattern, String literalText) {
        this.pattern = pattern;
        this.literal = literalText != null;
        this.literalText = literalText;
    }

    /** A tokenizer.json {"String": ...} pattern: matched literally, as HF does. */
    static HfRegex literal(String s) { return new HfRegex(null, s); }

    /** A tokenizer.json {"Regex": ...} pattern; {@code where} names the file and component for errors. */
    static HfRegex regex(String onig, String where) {
        String java = translate(onig, where);
        try {
            return new HfRegex(Pattern.compile(java, FLAGS), null);
        } catch (PatternSyntaxException e) {
            throw new TokenizerException(where + ": regex " + quote(onig) + " is not supported: " + e.getDescription());
        }
    }

    /** Receives matches [start, end) in order; empty matches are not reported. */
    interface MatchSink { void match(int start, int end); }

    void findAll(String text, MatchSink sink) {
        if (text.isEmpty()) return;
        if (literal) {
            if (literalText.isEmpty()) return;
            for (int i = text.indexOf(literalText); i >= 0; i = text.indexOf(literalText, i + literalText.length()))
                sink.match(i, i + literalText.length());
            return;
        }
        Matcher m = pattern.matcher(UnicodeCompat.get().map(text));
        while (m.find()) if (m.end() > m.start()) sink.match(m.start(), m.end());
    }

    /** Replaces every match with {@code content} (no group references, as in HF's Replace). */
    String replaceAll(String text, String content) {
        StringBuilder out = new StringBuilder(text.length());
        int[] pos = {0};
        findAll(text, (s, e) -> { out.append(text, pos[0], s).append(content); pos[0] = e; });
        if (pos[0] == 0) return text;
        return out.append(text, pos[0], text.length()).toString();
    }

    private static String quote(String s) { return "'" + s + "'"; }

    /** Oniguruma (Ruby syntax) to java.util.regex; refuses what the two read differently and cannot be rewritten. */
    static String translate(String p, String where) {
        StringBuilder out = new StringBuilder(p.length() + 16);
        int classDepth = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\') {
                if (i + 1 >= p.length()) throw unsupported(where, p, "a trailing backslash");
                char e = p.charAt(++i);
                switch (e) {
                    case 'p', 'P' -> {
                        String name;
                        int end;
                        if (i + 1 < p.length() && p.charAt(i + 1) == '{') {
                            end = p.indexOf('}', i + 2);
                            if (end < 0) throw unsupported(where, p, "an unclosed \\" + e + "{");
                            name = p.substring(i + 2, end);
                        } else if (i + 1 < p.length()) {
                            end = i + 1;
                            name = p.substring(i + 1, i + 2);
                        } else throw unsupported(where, p, "a bare \\" + e);
                        boolean negate = e == 'P';
                        if (name.startsWith("^")) { negate = !negate; name = name.substring(1); }
                        if (!CATEGORIES.contains(name))
                            throw unsupported(where, p, "\\" + e + "{" + name + "} (only general categories such as \\p{L} are supported)");
                        out.append(negate ? "\\P{" : "\\p{").append(name).append('}');
                        i = end;
                    }
                    case 'v' -> out.append("\\x0B");               // Java's \v is a class of vertical space
                    case 'h', 'H', 'R', 'X', 'K', 'G', 'y', 'Y', 'O', 'N', 'g', 'k' ->
                            throw unsupported(where, p, "\\" + e);
                    default -> out.append('\\').append(e);
                }
                continue;
            }
            if (classDepth > 0) {
                if (c == '[' && i + 1 < p.length() && p.charAt(i + 1) == ':')
                    throw unsupported(where, p, "a POSIX bracket class [:...:]");
                if (c == '[') classDepth++;
                else if (c == ']') classDepth--;
                out.append(c);
                continue;
            }
            switch (c) {
                case '[' -> {
                    classDepth = 1;
                    out.append(c);
                    // a ']' right after '[' or '[^' is a literal in Oniguruma, an error in Java
                    int j = i + 1;
                    if (j < p.length() && p.charAt(j) == '^') { out.append('^'); j++; }
                    if (j < p.length() && p.charAt(j) == ']') { out.append("\\]"); j++; }
                    i = j - 1;
                }
                case '{' -> {
                    int close = p.indexOf('}', i);
                    String body = close < 0 ? null : p.substring(i + 1, close);
                    if (body != null && body.matches("\\d+(,\\d*)?")) { out.append(p, i, close + 1); i = close; }
                    else if (body != null && body.matches(",\\d+")) { out.append("{0").append(body).append('}'); i = close; }
                    else out.append("\\{");                        // not a quantifier: a literal in Oniguruma
                }
                case '}' -> out.append("\\}");
                case '(' -> {
                    // (?i) reads the same in both; Ruby's (?m) is Java's (?s) and the rest differ: refuse them
                    int j = i + 2;
                    if (i + 1 < p.length() && p.charAt(i + 1) == '?') {
                        while (j < p.length() && (Character.isLetter(p.charAt(j)) || p.charAt(j) == '-')) j++;
                        String flags = p.substring(i + 2, j);
                        if (!flags.replace("i", "").replace("-", "").isEmpty())
                            throw unsupported(where, p, "the group flags (?" + flags + ")");
                    }
                    out.append(c);
                }
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static TokenizerException unsupported(String where, String pattern, String construct) {
        return new TokenizerException(where + ": regex " + quote(pattern) + " uses " + construct + ", which is not supported");
    }
}
