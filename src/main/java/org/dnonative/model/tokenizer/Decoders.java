package org.dnonative.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** tokenizer.json's "decoder": ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence (HF's decode_chain). */
final class Decoders {
    private Decoders() {}

    interface Decoder { List<String> apply(List<String> tokens); }

    /** Appends the decoders {@code n} describes to {@code out} (a Sequence flattened). */
    static void of(Json n, String where, List<Decoder> out) {
        if (n == null || n.isNull()) return;
        String type = n.path("type").asText();
        String at = where.concat(": decoder ").concat(type);   // concat, not +: see Normalizers.of
        switch (type) {
            case "Sequence" -> { for (Json c : n.path("decoders")) of(c, where, out); }
            case "ByteLevel" -> out.add(tokens -> {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                for (String t : tokens) ByteLevel.decodeToken(t, bytes);
                return List.of(bytes.toString(StandardCharsets.UTF_8)); // malformed bytes become U+FFFD, as Rust's from_utf8_lossy
            });
            case "Replace" -> {
                HfRegex p = Patterns.of(n.get("pattern"), at);
                String content = Normalizers.text(n, "content", at);
                out.add(tokens -> { List<String> r = new ArrayList<>(tokens.size()); for (String t : tokens) r.add(p.replaceAll(t, content)); return r; });
            }
            case "ByteFallback" -> out.add(Decoders::byteFallback);
            case "Fuse" -> out.add(tokens -> List.of(String.join("", tokens)));
            case "Strip" -> {
                String content = n.path("content").asText(" ");
                if (content.codePointCount(0, content.length()) != 1) throw new TokenizerException(at + ": content must be one character");
                int c = content.codePointAt(0), start = n.path("start").asInt(0), stop = n.path("stop").asInt(0);
                out.add(tokens -> { List<String> r = new ArrayList<>(tokens.size()); for (String t : tokens) r.add(strip(t, c, start, stop)); return r; });
            }
            case "Metaspace" -> {
                String rep = n.path("replacement").asText("\u2581");
                String scheme = n.path("prepend_scheme").asText(n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                out.add(tokens -> {
                    List<String> r = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        String t = tokens.get(i).replace(rep, " ");
                        if (i == 0 && !scheme.equals("never") && t.startsWith(" ")) t = t.substring(1);
                        r.add(t);
                    }
                    return r;
                });
            }
            default -> throw new TokenizerException(at + " is not supported");
        }
    }

    /** Up to {@code start} leading and {@code stop} trailing copies of the character {@code c} removed. */
    private static String strip(String t, int c, int start, int stop) {
        int b = 0, e = t.length();
        for (int k = 0; k < start && b < e && t.codePointAt(b) == c; k++) b += Character.charCount(c);
        for (int k = 0; k < stop && e > b && t.codePointBefore(e) == c; k++) e -= Character.charCount(c);
        return t.substring(b, e);
    }

    /** Runs of <0xNN> tokens become the text of their bytes, or one U+FFFD per byte when not valid UTF-8 (as HF). */
    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = byteOf(t);
            if (b >= 0) { pending.write(b); continue; }
            if (pending.size() > 0) { flush(pending, out); pending.reset(); }
            out.add(t);
        }
        if (pending.size() > 0) flush(pending, out);
        return out;
    }

    private static int byteOf(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
        int hi = Character.digit(t.charAt(3), 16), lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 || t.charAt(3) > 0x7f || t.charAt(4) > 0x7f ? -1 : hi * 16 + lo;
    }

    private static void flush(ByteArrayOutputStream pending, List<String> out) {
        byte[] b = pending.toByteArray();
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString());
        } catch (CharacterCodingException e) {
            for (int i = 0; i < b.length; i++) out.add("\uFFFD");
        }
    }
}
