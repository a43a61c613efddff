package org.dnonative.model.tokenizer;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A strict JSON (RFC 8259) reader over the bytes of a tokenizer.json, as serde_json reads it for HF
 * tokenizers: UTF-8 checked, lone surrogate escapes refused, nothing after the value. Why not
 * Jackson's parser: a tokenizer is usually loaded once per process, so what counts is the first
 * load in a fresh JVM, and there Jackson's deep call paths (and an ObjectMapper's set-up) run
 * interpreted for most of a 2-10 MB file; this reader's one small loop per token is compiled after a
 * few thousand iterations. Small sections become {@link Json} trees; the vocab and merges are read
 * by the caller through {@link #rawString()}, {@link #string()} and {@link #integer()} without any
 * tree. Errors name the line and column.
 */
final class JsonScanner {
    /** Deepest nesting read (Jackson's default limit, which the reader before this one applied): deeper is an error, not a stack overflow. */
    static final int MAX_DEPTH = 1000;
    private final byte[] b;
    private final String source;
    private int i;

    JsonScanner(byte[] bytes, String source) {
        this.b = bytes;
        this.source = source;
        if (b.length >= 3 && (b[0] & 0xff) == 0xEF && (b[1] & 0xff) == 0xBB && (b[2] & 0xff) == 0xBF) i = 3;   // a UTF-8 byte-order mark (editors write one): skipped, as Jackson did; it changes no value
    }

    /** Skips whitespace and returns the next byte without consuming it (-1 at the end). */
    int peek() {
        while (i < b.length) {
            byte c = b[i];
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') i++;
            else return c & 0xff;
        }
        return -1;
    }

    /** Consumes {@code c} after whitespace, or fails naming what was expected. */
    void expect(char c, String what) {
        if (peek() != c) throw error("expected " + what);
        i++;
    }

    /** After a member or element: true if a comma follows (consumed), false at {@code close} (consumed). */
    boolean more(char close) {
        int c = peek();
        if (c == ',') { i++; return true; }
        if (c == close) { i++; return false; }
        throw error("expected ',' or '" + close + "'");
    }

    /** Starts an object or array: true if it is empty (its closing bracket consumed). */
    boolean open(char open, char close, String what) {
        expect(open, what);
        if (peek() == close) { i++; return true; }
        return false;
    }

    void end() {
        if (peek() != -1) throw error("text after the JSON value");
    }

    /** A string value (the opening quote next, after whitespace). */
    String string() {
        if (peek() != '"') throw error("expected a string");
        int start = ++i;
        boolean ascii = true;
        while (true) {   // the fast path, no escapes: kept small so that the JIT compiles and inlines it early
            if (i >= b.length) throw error("unterminated string");
            int c = b[i];
            if (c == '"') {
                String s = new String(b, start, i - start, ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
                i++;
                return s;
            }
            if (c == '\\' || c >= 0 && c < 0x20) return escaped(start);
            if (c < 0) { ascii = false; i = checkUtf8(i); } else i++;
        }
    }

    /** The rest of a string with an escape (or a control character) at i; its content began at {@code start}. */
    private String escaped(int start) {
        StringBuilder sb = new StringBuilder(new String(b, start, i - start, StandardCharsets.UTF_8));
        while (true) {
            if (i >= b.length) throw error("unterminated string");
            int c = b[i] & 0xff;
            if (c == '"') { i++; return sb.toString(); }
            if (c < 0x20) throw error("control character in a string");
            if (c == '\\') {
                if (i + 1 >= b.length) throw error("unterminated string");
                char e = (char) b[i + 1];
                i += 2;
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u': {
                        char u = hex4();
                        if (Character.isHighSurrogate(u)) {
                            if (i + 1 < b.length && b[i] == '\\' && b[i + 1] == 'u') {
                                i += 2;
                                char low = hex4();
                                if (!Character.isLowSurrogate(low)) throw error("lone leading surrogate in a \\u escape");
                                sb.append(u).append(low);
                            } else throw error("lone leading surrogate in a \\u escape");
                        } else if (Character.isLowSurrogate(u)) throw error("lone trailing surrogate in a \\u escape");
                        else sb.append(u);
                        break;
                    }
                    default: i -= 2; throw error("invalid escape '\\" + e + "'");
                }
            } else if (c >= 0x80) {
                int from = i;
                i = checkUtf8(i);
                sb.append(new String(b, from, i - from, StandardCharsets.UTF_8));
            } else { sb.append((char) c); i++; }
        }
    }

    /**
     * Of the last {@link #rawString()}: where its content began, its first space (-1: none), how many
     * spaces it has; String.hashCode of its text (hashWhole), of the text before and after the first
     * space (hashBefore, hashAfter) and of the text less its spaces (hashJoined); and 31 to the power
     * of its length in UTF-16 units (pow31), to extend a hash by this text. Computed while checking
     * the bytes, so that {@link Vocab} is probed without another pass over them; units: the length in UTF-16 units.
     */
    int rawStart, firstSpace, spaces, units, hashWhole, hashBefore, hashAfter, hashJoined, pow31;
    /** The code point that the last {@link #checkUtf8} read. */
    private int lastCp;

    /**
     * The next string value when it holds no escape, without making a String: consumed, its UTF-8
     * checked, and the index after its content returned (the content: {@link #bytes()}[rawStart, that)).
     * When it holds an escape (or is malformed): -1, nothing consumed; {@link #string()} reads it.
     */
    int rawString() {
        if (peek() != '"') throw error("expected a string");
        int start = i + 1, space = -1, n = 0, whole = 0, part = 0, before = 0, joined = 0, pow = 1, len = 0;
        for (int k = start; k < b.length; ) {
            int c = b[k];
            if (c == '"') {
                rawStart = start;
                firstSpace = space;
                spaces = n;
                hashWhole = whole;
                hashBefore = space < 0 ? part : before;
                hashAfter = part;
                hashJoined = joined;
                pow31 = pow;
                units = len;
                i = k + 1;
                return k;
            }
            if (c == '\\' || c >= 0 && c < 0x20) return -1;
            if (c >= 0) k++;
            else {
                k = checkUtf8(k);
                c = lastCp;
                if (c >= 0x10000) {   // two UTF-16 units: the high surrogate here, the low one below
                    int high = Character.highSurrogate(c);
                    whole = 31 * whole + high; part = 31 * part + high; joined = 31 * joined + high; pow *= 31; len++;
                    c = Character.lowSurrogate(c);
                }
            }
            whole = 31 * whole + c;
            pow *= 31;
            len++;
            if (c == ' ' && n++ == 0) { space = k - 1; before = part; part = 0; continue; }
            part = 31 * part + c;
            joined = 31 * joined + c;
        }
        return -1;
    }

    /**
     * {@link #rawString()} for a vocab key: only rawStart, hashWhole and units are set (half the work per
     * byte, which counts while the first entries of a fresh JVM run in the interpreter).
     */
    int rawKey() {
        if (peek() != '"') throw error("expected a string");
        int start = i + 1, h = 0, len = 0;
        for (int k = start; k < b.length; ) {
            int c = b[k];
            if (c == '"') {
                rawStart = start;
                hashWhole = h;
                units = len;
                i = k + 1;
                return k;
            }
            if (c == '\\' || c >= 0 && c < 0x20) return -1;
            if (c >= 0) k++;
            else {
                k = checkUtf8(k);
                c = lastCp;
                if (c >= 0x10000) { h = 31 * h + Character.highSurrogate(c); len++; c = Character.lowSurrogate(c); }
            }
            h = 31 * h + c;
            len++;
        }
        return -1;
    }

    /** The bytes read (for {@link #rawString()}'s ranges). */
    byte[] bytes() { return b; }

    /** The text of bytes()[from, to), UTF-8 checked already. */
    String text(int from, int to) {
        for (int k = from; k < to; k++)
            if (b[k] < 0) return new String(b, from, to - from, StandardCharsets.UTF_8);
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private char hex4() {
        if (i + 4 > b.length) throw error("short \\u escape");
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int d = Character.digit(b[i + k], 16);
            if (d < 0) throw error("bad hex digit in a \\u escape");
            v = v * 16 + d;
        }
        i += 4;
        return (char) v;
    }

    /** Checks one UTF-8 sequence at {@code at} (well-formed, shortest form, no surrogates); returns its end. */
    private int checkUtf8(int at) {
        int c = b[at] & 0xff, n, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; min = 0x10000; }
        else { i = at; throw error("invalid UTF-8 byte 0x" + Integer.toHexString(c)); }
        int cp = c & (0x3F >> n);
        for (int k = 1; k <= n; k++) {
            if (at + k >= b.length) { i = at; throw error("truncated UTF-8 sequence"); }
            int cc = b[at + k] & 0xff;
            if ((cc & 0xC0) != 0x80) { i = at; throw error("invalid UTF-8 sequence"); }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { i = at; throw error("invalid UTF-8 sequence"); }
        lastCp = cp;
        return at + n + 1;
    }

    /** An integer value in int range. */
    int integer() {
        peek();
        int start = i;
        boolean neg = false;
        if (i < b.length && b[i] == '-') { neg = true; i++; }
        long v = 0;
        int digits = 0;
        while (i < b.length && b[i] >= '0' && b[i] <= '9') {
            v = v * 10 + (b[i] - '0');
            if (v > Integer.MAX_VALUE + 1L) { i = start; throw error("integer out of range"); }
            i++;
            digits++;
        }
        if (digits == 0 || (digits > 1 && b[neg ? start + 1 : start] == '0')) { i = start; throw error("expected an integer"); }
        if (i < b.length && (b[i] == '.' || b[i] == 'e' || b[i] == 'E')) { i = start; throw error("expected an integer"); }
        v = neg ? -v : v;
        if (v > Integer.MAX_VALUE) { i = start; throw error("integer out of range"); }
        return (int) v;
    }

    /** Any JSON value as a tree. */
    Json value() {
        return value(0);
    }

    private Json value(int depth) {
        int c = peek();
        if ((c == '{' || c == '[') && depth >= MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        switch (c) {
            case '{': {
                Json o = Json.object();
                if (open('{', '}', "'{'")) return o;
                do {
                    String k = string();
                    expect(':', "':'");
                    o.set(k, value(depth + 1));
                } while (more('}'));
                return o;
            }
            case '[': {
                List<Json> a = new ArrayList<>();
                if (open('[', ']', "'['")) return Json.array(a);
                do a.add(value(depth + 1)); while (more(']'));
                return Json.array(a);
            }
            case '"': return Json.text(string());
            case 't': literal("true"); return Json.TRUE;
            case 'f': literal("false"); return Json.FALSE;
            case 'n': literal("null"); return Json.NULL;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error(c < 0 ? "unexpected end of the file" : "unexpected character '" + (char) c + "'");
        }
    }

    private void literal(String word) {
        for (int k = 0; k < word.length(); k++)
            if (i + k >= b.length || b[i + k] != word.charAt(k)) throw error("invalid literal");
        i += word.length();
    }

    private Json number() {
        int start = i;
        if (b[i] == '-') i++;
        int intStart = i;
        while (i < b.length && b[i] >= '0' && b[i] <= '9') i++;
        if (i == intStart || (i - intStart > 1 && b[intStart] == '0')) { i = start; throw error("invalid number"); }
        boolean fraction = false;
        if (i < b.length && b[i] == '.') {
            fraction = true;
            int d = ++i;
            while (i < b.length && b[i] >= '0' && b[i] <= '9') i++;
            if (i == d) { i = start; throw error("invalid number"); }
        }
        if (i < b.length && (b[i] == 'e' || b[i] == 'E')) {
            fraction = true;
            i++;
            if (i < b.length && (b[i] == '+' || b[i] == '-')) i++;
            int d = i;
            while (i < b.length && b[i] >= '0' && b[i] <= '9') i++;
            if (i == d) { i = start; throw error("invalid number"); }
        }
        String text = new String(b, start, i - start, StandardCharsets.ISO_8859_1);
        if (fraction) {
            double d = Double.parseDouble(text);
            if (Double.isInfinite(d)) { i = start; throw error("number out of range"); }
            return Json.number(d);
        }
        if (text.length() <= 18) return Json.number(Long.parseLong(text));
        BigInteger v = new BigInteger(text);
        return v.bitLength() < 64 ? Json.number(v.longValue()) : Json.number(v.doubleValue());
    }

    TokenizerException error(String what) {
        int line = 1, col = 1;
        for (int k = 0; k < Math.min(i, b.length); k++) {
            if (b[k] == '\n') { line++; col = 1; } else if ((b[k] & 0xC0) != 0x80) col++;
        }
        return new TokenizerException(source + ": not valid JSON: " + what + " at line " + line + ", column " + col);
    }
}
