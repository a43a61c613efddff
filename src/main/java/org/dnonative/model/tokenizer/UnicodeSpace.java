package org.dnonative.model.tokenizer;

/** White space as HF sees it (Rust's char::is_whitespace, the Unicode White_Space property; equal to its regex \s). */
final class UnicodeSpace {
    private UnicodeSpace() {}

    static boolean is(int cp) {
        if (cp < 0x80) return cp == ' ' || cp >= 0x09 && cp <= 0x0D;
        return java.util.Arrays.binarySearch(HfUnicodeTable.SPACE, cp) >= 0;
    }

    static String strip(String s, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && is(s.codePointAt(b))) b += Character.charCount(s.codePointAt(b));
        if (right) while (e > b && is(s.codePointBefore(e))) e -= Character.charCount(s.codePointBefore(e));
        return s.substring(b, e);
    }
}
