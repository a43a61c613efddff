package org.dnonative.model.template;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a template into text and tag tokens with the whitespace rules of transformers' Jinja2
 * environment: trim_blocks (the newline after a block or comment tag is dropped), lstrip_blocks
 * (spaces and tabs before a block or comment tag on its own line are dropped), {@code -} and
 * {@code +} modifiers, and keep_trailing_newline=False (one final newline of the source is dropped).
 */
final class Lexer {
    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Kind kind, String text, Object value, int line) {
        boolean is(Kind k, String t) { return kind == k && text.equals(t); }

        boolean isName(String t) { return is(Kind.NAME, t); }

        boolean isOp(String t) { return is(Kind.OP, t); }
    }

    private static final Pattern RAW_BEGIN = Pattern.compile("\\{%([-+]?)\\s*raw\\s*(-?)%}");
    private static final Pattern RAW_END = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*([-+]?)%}");
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT = Pattern.compile("(\\d+_)*\\d+((\\.(\\d+_)*\\d+)?[eE][+\\-]?(\\d+_)*\\d+|\\.(\\d+_)*\\d+)");
    private static final Pattern INT = Pattern.compile("0[bB](_?[01])+|0[oO](_?[0-7])+|0[xX](_?[\\da-fA-F])+|(\\d+_)*\\d+");
    private static final String[] OPS = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[", "]",
            "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"};

    private final String src;
    private final String name;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private int line = 1;
    private boolean lineStarting = true;

    private Lexer(String source, String name) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        this.src = s;
        this.name = name;
    }

    static List<Token> tokenize(String source, String name) {
        Lexer lx = new Lexer(source, name);
        lx.run();
        return lx.out;
    }

    private TemplateException error(String msg) { return new TemplateException(name, line, msg, false); }

    private void run() {
        while (pos < src.length()) {
            int i = nextTag(pos);
            if (i < 0) {
                text(src.substring(pos));
                break;
            }
            String text = src.substring(pos, i);
            char type = src.charAt(i + 1);
            char sign = i + 2 < src.length() ? src.charAt(i + 2) : 0;
            Matcher raw = RAW_BEGIN.matcher(src).region(i, src.length());
            boolean isRaw = type == '%' && raw.lookingAt();
            if (sign == '-') text = rstrip(text);
            else if (sign != '+' && type != '{') text = lstripBlock(text);
            text(text);
            advanceTo(i);
            if (isRaw) rawBlock(raw);
            else if (type == '#') comment();
            else tag(type);
        }
        out.add(new Token(Kind.EOF, "", null, line));
    }

    private int nextTag(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    private String lstripBlock(String text) {
        int l = text.lastIndexOf('\n') + 1;
        if (l > 0 || lineStarting) {
            for (int k = l; k < text.length(); k++) if (!Py.isSpace(text.charAt(k))) return text;
            return text.substring(0, l);
        }
        return text;
    }

    private void text(String text) {
        if (!text.isEmpty()) out.add(new Token(Kind.TEXT, text, text, line));
    }

    private void advanceTo(int to) {
        for (int k = pos; k < to; k++) if (src.charAt(k) == '\n') line++;
        if (to > pos) lineStarting = src.charAt(to - 1) == '\n';
        pos = to;
    }

    /** After a tag's end delimiter: '-' strips all whitespace, otherwise trim_blocks drops one newline. */
    private void afterEnd(int end, char sign, boolean trim) {
        int p = end;
        if (sign == '-') while (p < src.length() && Py.isSpace(src.charAt(p))) p++;
        else if (trim && sign != '+' && p < src.length() && src.charAt(p) == '\n') p++;
        advanceTo(p);
    }

    private void comment() {
        int startLine = line;
        int end = src.indexOf("#}", pos + 2);
        if (end < 0) throw new TemplateException(name, startLine, "comment '{#' is never closed", false);
        char sign = src.charAt(end - 1) == '-' && end - 1 >= pos + 2 ? '-' : src.charAt(end - 1) == '+' ? '+' : 0;
        afterEnd(end + 2, sign, true);
    }

    private void rawBlock(Matcher begin) {
        int startLine = line;
        int bodyStart = begin.end();
        if (begin.group(2).equals("-")) while (bodyStart < src.length() && Py.isSpace(src.charAt(bodyStart))) bodyStart++;
        Matcher end = RAW_END.matcher(src);
        if (!end.find(bodyStart)) throw new TemplateException(name, startLine, "'raw' block is never closed (missing endraw)", false);
        String body = src.substring(bodyStart, end.start());
        if (end.group(1).equals("-")) body = rstrip(body);
        else if (!end.group(1).equals("+")) body = lstripBlockRaw(body);
        advanceTo(bodyStart);
        text(body);
        advanceTo(end.start());
        String sign = end.group(2);
        afterEnd(end.end(), sign.isEmpty() ? 0 : sign.charAt(0), true);
    }

    private String lstripBlockRaw(String body) {
        int l = body.lastIndexOf('\n') + 1;
        if (l == 0) return body;
        for (int k = l; k < body.length(); k++) if (!Py.isSpace(body.charAt(k))) return body;
        return body.substring(0, l);
    }

    private void tag(char type) {
        boolean var = type == '{';
        int startLine = line;
        out.add(new Token(var ? Kind.VAR_BEGIN : Kind.BLOCK_BEGIN, var ? "{{" : "{%", null, line));
        int p = pos + 2;
        if (p < src.length() && (src.charAt(p) == '-' || src.charAt(p) == '+')) p++;
        advanceTo(p);
        int depth = 0;
        while (true) {
            while (pos < src.length() && Py.isSpace(src.charAt(pos))) advanceTo(pos + 1);
            if (pos >= src.length())
                throw new TemplateException(name, startLine, "tag '" + (var ? "{{" : "{%") + "' is never closed", false);
            if (depth == 0) {
                String close = var ? "}}" : "%}";
                char sign = 0;
                int endAt = -1;
                if ((src.startsWith("-" + close, pos)) || (!var && src.startsWith("+" + close, pos))) {
                    sign = src.charAt(pos);
                    endAt = pos + 3;
                } else if (src.startsWith(close, pos)) endAt = pos + 2;
                if (endAt >= 0) {
                    out.add(new Token(var ? Kind.VAR_END : Kind.BLOCK_END, close, null, line));
                    afterEnd(endAt, sign, !var);
                    return;
                }
            }
            char c = src.charAt(pos);
            Matcher m;
            if (c == '\'' || c == '"') {
                stringLiteral(c);
            } else if ((m = NAME.matcher(src).region(pos, src.length())).lookingAt()) {
                out.add(new Token(Kind.NAME, m.group(), null, line));
                advanceTo(m.end());
            } else if (Character.isDigit(c) && (m = FLOAT.matcher(src).region(pos, src.length())).lookingAt()
                    && !(pos > 0 && src.charAt(pos - 1) == '.')) {
                out.add(new Token(Kind.FLOAT, m.group(), Double.parseDouble(m.group().replace("_", "")), line));
                advanceTo(m.end());
            } else if (Character.isDigit(c) && (m = INT.matcher(src).region(pos, src.length())).lookingAt()) {
                out.add(new Token(Kind.INT, m.group(), parseInt(m.group()), line));
                advanceTo(m.end());
            } else {
                String op = null;
                for (String o : OPS) if (src.startsWith(o, pos)) { op = o; break; }
                if (op == null) throw error("unexpected character '" + c + "'");
                if (op.equals("(") || op.equals("[") || op.equals("{")) depth++;
                else if (op.equals(")") || op.equals("]") || op.equals("}")) {
                    if (depth == 0) throw error("unexpected '" + op + "'");
                    depth--;
                }
                out.add(new Token(Kind.OP, op, null, line));
                advanceTo(pos + op.length());
            }
        }
    }

    private static Long parseInt(String s) {
        s = s.replace("_", "").toLowerCase();
        if (s.startsWith("0b")) return Long.parseLong(s.substring(2), 2);
        if (s.startsWith("0o")) return Long.parseLong(s.substring(2), 8);
        if (s.startsWith("0x")) return Long.parseLong(s.substring(2), 16);
        return Long.parseLong(s);
    }

    /** A quoted string with Python's escapes (what Jinja2 applies via unicode-escape). */
    private void stringLiteral(char quote) {
        int startLine = line;
        StringBuilder sb = new StringBuilder();
        int p = pos + 1;
        while (true) {
            if (p >= src.length()) throw new TemplateException(name, startLine, "string literal is never closed", false);
            char c = src.charAt(p);
            if (c == quote) break;
            if (c != '\\') { sb.append(c); p++; continue; }
            if (p + 1 >= src.length()) throw new TemplateException(name, startLine, "string literal is never closed", false);
            char e = src.charAt(p + 1);
            p += 2;
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '\\' -> sb.append('\\');
                case '\'' -> sb.append('\'');
                case '"' -> sb.append('"');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case '\n' -> { }
                case 'x', 'u', 'U' -> {
                    int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (p + n > src.length() || !src.substring(p, p + n).matches("[0-9a-fA-F]+"))
                        throw new TemplateException(name, line, "bad \\" + e + " escape in string literal", false);
                    sb.appendCodePoint(Integer.parseInt(src.substring(p, p + n), 16));
                    p += n;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int q = p - 1, v = 0;
                        while (q < src.length() && q < p + 2 && src.charAt(q) >= '0' && src.charAt(q) <= '7') v = v * 8 + (src.charAt(q++) - '0');
                        sb.appendCodePoint(v);
                        p = q;
                    } else sb.append('\\').append(e);
                }
            }
        }
        String text = src.substring(pos, p + 1);
        out.add(new Token(Kind.STRING, text, sb.toString(), startLine));
        advanceTo(p + 1);
    }

    static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && Py.isSpace(s.charAt(e - 1))) e--;
        return s.substring(0, e);
    }
}
