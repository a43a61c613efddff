package org.dnonative.model.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Python's str methods as chat templates call them (split is Python's, never a regex). */
final class PyStrings {
    private PyStrings() {}

    static String strip(String s, String chars, boolean left, boolean right) {
        int[] cps = s.codePoints().toArray();
        int lo = 0, hi = cps.length;
        while (left && lo < hi && stripped(cps[lo], chars)) lo++;
        while (right && hi > lo && stripped(cps[hi - 1], chars)) hi--;
        return new String(cps, lo, hi - lo);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? Py.isSpace(cp) : chars.indexOf(new String(Character.toChars(cp))) >= 0;
    }

    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int[] cps = s.codePoints().toArray();
            int i = 0, n = cps.length;
            while (true) {
                while (i < n && Py.isSpace(cps[i])) i++;
                if (i >= n) break;
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    int end = n;
                    while (end > i && Py.isSpace(cps[end - 1])) end--;
                    out.add(new String(cps, i, end - i));
                    break;
                }
                int j = i;
                while (j < n && !Py.isSpace(cps[j])) j++;
                out.add(new String(cps, i, j - i));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new EvalError("empty separator");
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int k = s.indexOf(sep, from);
            if (k < 0) break;
            out.add(s.substring(from, k));
            from = k + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<Object> rsplit(String s, String sep, long maxsplit) {
        if (sep == null || maxsplit < 0) return split(s, sep, maxsplit);
        if (sep.isEmpty()) throw new EvalError("empty separator");
        List<Object> out = new ArrayList<>();
        int to = s.length();
        while (out.size() < maxsplit) {
            int k = s.lastIndexOf(sep, to - sep.length());
            if (k < 0) break;
            out.add(0, s.substring(k + sep.length(), to));
            to = k;
        }
        out.add(0, s.substring(0, to));
        return out;
    }

    static String replace(String s, String old, String rep, long count) {
        if (count < 0) {
            if (old.isEmpty()) return insertEverywhere(s, rep);
            return s.replace(old, rep);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int k = s.indexOf(old, from);
            if (k < 0) break;
            sb.append(s, from, k).append(rep);
            from = k + old.length();
            if (old.isEmpty()) {
                if (from >= s.length()) { from = s.length(); break; }
                int cp = s.codePointAt(from);
                sb.appendCodePoint(cp);
                from += Character.charCount(cp);
            }
        }
        return sb.append(s.substring(from)).toString();
    }

    private static String insertEverywhere(String s, String rep) {
        StringBuilder sb = new StringBuilder(rep);
        s.codePoints().forEach(cp -> sb.appendCodePoint(cp).append(rep));
        return sb.toString();
    }

    static String upper(String s) { return s.toUpperCase(Locale.ROOT); }

    /** Python's str.lower(): full mappings, and its final-sigma rule (Java's differs next to digits). */
    static String lower(String s) {
        if (s.indexOf('\u03a3') < 0) return s.toLowerCase(Locale.ROOT);
        int[] cps = s.codePoints().toArray();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cps.length; i++) sb.append(lowerAt(cps, i));
        return sb.toString();
    }

    /** Python's str.title(): title-case a cased character after an uncased one, lower-case the others (full mappings). */
    static String title(String s) {
        StringBuilder sb = new StringBuilder();
        int[] cps = s.codePoints().toArray();
        boolean prevCased = false;
        for (int i = 0; i < cps.length; i++) {
            int cp = cps[i];
            if (prevCased) sb.append(lowerAt(cps, i));
            else sb.append(titleCase(cp));
            prevCased = isCased(cp);
        }
        return sb.toString();
    }

    /** Python's "cased": upper, lower or title case (Unicode's Cased property, as near as Java tells). */
    static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    /** The full titlecase mapping (SpecialCasing): the first character of the full upper-case mapping, the rest lower. */
    static String titleCase(int cp) {
        if (cp == 0x0149) return "\u02bcN";   // the one mapping the rule below gets wrong
        String one = new String(Character.toChars(cp));
        String upper = one.toUpperCase(java.util.Locale.ROOT);
        if (upper.codePointCount(0, upper.length()) == 1) return new String(Character.toChars(Character.toTitleCase(cp)));
        int first = upper.codePointAt(0);
        return new String(Character.toChars(first)) + upper.substring(Character.charCount(first)).toLowerCase(java.util.Locale.ROOT);
    }

    /** Lower case of cps[i] with Python's final-sigma rule (capital sigma ending a word becomes the final form). */
    private static String lowerAt(int[] cps, int i) {
        if (cps[i] != 0x03a3) return new String(Character.toChars(cps[i])).toLowerCase(java.util.Locale.ROOT);
        int j = i - 1;
        while (j >= 0 && caseIgnorable(cps[j])) j--;
        boolean before = j >= 0 && isCased(cps[j]);
        int k = i + 1;
        while (k < cps.length && caseIgnorable(cps[k])) k++;
        boolean after = k < cps.length && isCased(cps[k]);
        return before && !after ? "\u03c2" : "\u03c3";
    }

    private static boolean caseIgnorable(int cp) {
        int t = Character.getType(cp);
        return t == Character.NON_SPACING_MARK || t == Character.ENCLOSING_MARK || t == Character.FORMAT
                || t == Character.MODIFIER_LETTER || t == Character.MODIFIER_SYMBOL
                || cp == '\'' || cp == '.' || cp == ':' || cp == 0x00b7 || cp == 0x2019 || cp == 0x2018 || cp == 0x2024;
    }

    /** Python's str.islower: some cased character, and every cased one lower case. */
    static boolean isLower(String s) {
        boolean cased = false;
        for (int cp : s.codePoints().toArray()) {
            if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) return false;
            cased |= Character.isLowerCase(cp);
        }
        return cased;
    }

    /** Python's str.isupper: some cased character, and every cased one upper case. */
    static boolean isUpper(String s) {
        boolean cased = false;
        for (int cp : s.codePoints().toArray()) {
            if (Character.isLowerCase(cp) || Character.isTitleCase(cp)) return false;
            cased |= Character.isUpperCase(cp);
        }
        return cased;
    }

    /** Python's str.isdigit for one code point: Unicode Numeric_Type Decimal or Digit (superscripts count). */
    static boolean isDigit(int cp) {
        int t = Character.getType(cp);
        if (t == Character.DECIMAL_DIGIT_NUMBER) return true;
        int v = Character.getNumericValue(cp);
        return t == Character.OTHER_NUMBER && v >= 0 && v <= 9;
    }

    /** Python's str.isalnum for one code point (what the regex \\w of Python's re matches, with '_'). */
    static boolean isAlnum(int cp) {
        int t = Character.getType(cp);
        return Character.isLetter(cp) || t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Python's str.capitalize(): the first character title-cased (full mapping), the rest lower-cased. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int[] cps = s.codePoints().toArray();
        StringBuilder sb = new StringBuilder(titleCase(cps[0]));
        for (int i = 1; i < cps.length; i++) sb.append(lowerAt(cps, i));
        return sb.toString();
    }

    static boolean startsOrEnds(String s, Object affix, boolean starts) {
        if (affix instanceof PyTuple t) {
            for (Object o : t.items()) if (startsOrEnds(s, o, starts)) return true;
            return false;
        }
        if (!(affix instanceof String a))
            throw new EvalError((starts ? "startswith" : "endswith") + " first arg must be str or a tuple of str, not " + Py.typeName(affix));
        return starts ? s.startsWith(a) : s.endsWith(a);
    }

    static boolean allMatch(String s, java.util.function.IntPredicate p) {
        return !s.isEmpty() && s.codePoints().allMatch(p);
    }
}
