package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pure-Java reading of HuggingFace {@code tokenizer.json}: added/special tokens, normalizers
 * (NFC/NFKC/NFD, Lowercase, Prepend, Replace, Strip, Sequence), pre-tokenizers (ByteLevel with the
 * GPT-2 regex, Split, Metaspace, Digits, Whitespace, Sequence), the BPE model (byte-level, or
 * SentencePiece-style with byte fallback, ignore_merges) and WordLevel, TemplateProcessing for
 * special tokens, and the matching decoders. Nothing is downloaded and nothing is truncated.
 *
 * <p>Long because tokenizer.json's components are small and read together (a normalizer, a
 * pre-tokenizer and a decoder each a few lines); the "real models" work splits it by component.
 */
public final class Tokenizer {
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final String json;
    private final Map<String, Integer> vocab = new HashMap<>();
    private final String[] idToToken;
    private final Map<String, Integer> addedTokens = new LinkedHashMap<>();
    private final Set<Integer> specialIds = new HashSet<>();
    private final Pattern addedPattern;
    private final Map<String, Integer> addedLstrip = new HashMap<>();
    private final Set<String> addedRstrip = new HashSet<>();
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final Model model;
    private final List<Decoder> decoders;
    private final List<Object> singleTemplate; // String = special token, null = the sequence
    private final Map<String, int[]> templateSpecialIds = new HashMap<>();
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    // ---------------------------------------------------------------- loading

    public static Tokenizer load(Path tokenizerJson) {
        try {
            return fromJson(Files.readString(tokenizerJson), tokenizerJson.toString());
        } catch (NoSuchFileException e) {
            throw new TokenizerException(tokenizerJson + ": missing");
        } catch (IOException e) {
            throw new TokenizerException(tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /** A tokenizer from the text of a tokenizer.json; {@code sourceName} appears in error messages. */
    public static Tokenizer fromJson(String json, String sourceName) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new TokenizerException(sourceName + ": not valid JSON: " + e.getMessage(), e);
        }
        return new Tokenizer(sourceName, root, json);
    }

    /** The tokenizer.json text this tokenizer was read from (written back unchanged on save). */
    public String json() { return json; }

    private Tokenizer(String source, JsonNode root, String json) {
        this.source = source;
        this.json = json;
        JsonNode m = root.get("model");
        if (m == null || !m.isObject()) throw err("no 'model' object");
        String type = m.path("type").asText(m.has("merges") ? "BPE" : "");
        JsonNode v = m.get("vocab");
        if (v == null || !v.isObject()) throw err("model has no vocab object");
        int maxId = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
            maxId = Math.max(maxId, e.getValue().asInt());
        }
        for (JsonNode a : root.path("added_tokens")) {
            String content = a.get("content").asText();
            int id = a.get("id").asInt();
            addedTokens.put(content, id);
            if (a.path("special").asBoolean(false)) specialIds.add(id);
            if (a.path("lstrip").asBoolean(false)) addedLstrip.put(content, 1);
            if (a.path("rstrip").asBoolean(false)) addedRstrip.add(content);
            maxId = Math.max(maxId, id);
        }
        idToToken = new String[maxId + 1];
        vocab.forEach((t, id) -> idToToken[id] = t);
        addedTokens.forEach((t, id) -> idToToken[id] = t);
        if (addedTokens.isEmpty()) {
            addedPattern = null;
        } else {
            List<String> sorted = new ArrayList<>(addedTokens.keySet());
            sorted.sort((a, b) -> b.length() - a.length());
            StringBuilder sb = new StringBuilder();
            for (String s : sorted) {
                if (sb.length() > 0) sb.append('|');
                if (addedLstrip.containsKey(s)) sb.append("\\s*");
                sb.append(Pattern.quote(s));
                if (addedRstrip.contains(s)) sb.append("\\s*");
            }
            addedPattern = Pattern.compile(sb.toString());
        }
        normalizer = normalizer(root.get("normalizer"));
        preTokenizer = preTokenizer(root.get("pre_tokenizer"));
        model = switch (type) {
            case "BPE" -> new Bpe(m);
            case "WordLevel" -> new WordLevel(m);
            default -> throw err("model type '" + type + "' is not supported (BPE, WordLevel)");
        };
        decoders = new ArrayList<>();
        decoder(root.get("decoder"), decoders);
        singleTemplate = template(root.get("post_processor"));
    }

    private TokenizerException err(String message) {
        return new TokenizerException(source + ": " + message);
    }

    // ---------------------------------------------------------------- public API

    public int vocabSize() { return idToToken.length; }

    /** The id of a token (vocabulary or added), or null. */
    public Integer tokenId(String token) {
        Integer id = addedTokens.get(token);
        return id != null ? id : vocab.get(token);
    }

    public String token(int id) { return id >= 0 && id < idToToken.length ? idToToken[id] : null; }

    public boolean isSpecial(int id) { return specialIds.contains(id); }

    /** Encodes without adding special tokens (what chat templates and DNO's scoring need). */
    public int[] encode(String text) { return encode(text, false); }

    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList();
        int pos = 0;
        if (addedPattern != null) {
            Matcher mt = addedPattern.matcher(text);
            while (mt.find()) {
                if (mt.start() > pos) encodeSegment(text.substring(pos, mt.start()), out);
                out.add(addedTokenOf(mt.group()));
                pos = mt.end();
            }
        }
        if (pos < text.length()) encodeSegment(text.substring(pos), out);
        int[] ids = out.toArray();
        if (!addSpecialTokens || singleTemplate == null) return ids;
        IntList t = new IntList();
        for (Object item : singleTemplate) {
            if (item == null) for (int id : ids) t.add(id);
            else for (int id : templateSpecialIds.get((String) item)) t.add(id);
        }
        return t.toArray();
    }

    /** The id of a matched added token; lstrip/rstrip tokens match with the whitespace around them. */
    private int addedTokenOf(String matched) {
        Integer id = addedTokens.get(matched);
        if (id == null) id = addedTokens.get(matched.stripLeading());
        if (id == null) id = addedTokens.get(matched.stripTrailing());
        if (id == null) id = addedTokens.get(matched.strip());
        if (id == null) throw new IllegalStateException("no added token for '" + matched + "'");
        return id;
    }

    private void encodeSegment(String text, IntList out) {
        String normalized = normalizer == null ? text : normalizer.apply(text);
        if (normalized.isEmpty()) return;
        List<String> pieces = preTokenizer == null ? List.of(normalized) : preTokenizer.apply(List.of(normalized));
        for (String p : pieces) {
            if (p.isEmpty()) continue;
            int[] ids = cache.get(p);
            if (ids == null) {
                ids = model.tokenize(p);
                if (cache.size() < 100_000) cache.put(p, ids);
            }
            for (int id : ids) out.add(id);
        }
    }

    public String decode(int[] ids) { return decode(ids, false); }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (skipSpecialTokens && specialIds.contains(id)) continue;
            String t = token(id);
            if (t == null) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (" + idToToken.length + ")");
            tokens.add(t);
        }
        if (decoders.isEmpty()) return String.join(" ", tokens);
        for (Decoder d : decoders) tokens = d.apply(tokens);
        return String.join("", tokens);
    }

    // ---------------------------------------------------------------- normalizers

    private interface Normalizer { String apply(String s); }

    private Normalizer normalizer(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence": {
                List<Normalizer> list = new ArrayList<>();
                for (JsonNode c : n.path("normalizers")) { Normalizer x = normalizer(c); if (x != null) list.add(x); }
                return s -> { for (Normalizer x : list) s = x.apply(s); return s; };
            }
            case "NFC": return s -> java.text.Normalizer.normalize(s, Form.NFC);
            case "NFKC": return s -> java.text.Normalizer.normalize(s, Form.NFKC);
            case "NFD": return s -> java.text.Normalizer.normalize(s, Form.NFD);
            case "NFKD": return s -> java.text.Normalizer.normalize(s, Form.NFKD);
            case "Lowercase": return s -> s.toLowerCase(java.util.Locale.ROOT);
            case "Prepend": { String p = n.get("prepend").asText(); return s -> s.isEmpty() ? s : p + s; }
            case "Replace": {
                Pattern p = pattern(n.get("pattern"));
                String content = Matcher.quoteReplacement(n.get("content").asText());
                return s -> p.matcher(s).replaceAll(content);
            }
            case "Strip": {
                boolean left = n.path("strip_left").asBoolean(true), right = n.path("strip_right").asBoolean(true);
                return s -> { if (left) s = s.stripLeading(); if (right) s = s.stripTrailing(); return s; };
            }
            default: throw err("normalizer '" + type + "' is not supported");
        }
    }

    private Pattern pattern(JsonNode p) {
        if (p == null) throw err("pattern missing");
        if (p.has("String")) return Pattern.compile(Pattern.quote(p.get("String").asText()));
        if (p.has("Regex")) return Pattern.compile(p.get("Regex").asText(), Pattern.UNICODE_CHARACTER_CLASS);
        throw err("pattern " + p + " is neither String nor Regex");
    }

    // ---------------------------------------------------------------- pre-tokenizers

    private interface PreTokenizer { List<String> apply(List<String> pieces); }

    private PreTokenizer preTokenizer(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence": {
                List<PreTokenizer> list = new ArrayList<>();
                for (JsonNode c : n.path("pretokenizers")) { PreTokenizer x = preTokenizer(c); if (x != null) list.add(x); }
                return pieces -> { for (PreTokenizer x : list) pieces = x.apply(pieces); return pieces; };
            }
            case "ByteLevel": {
                boolean prefix = n.path("add_prefix_space").asBoolean(false);
                boolean useRegex = n.path("use_regex").asBoolean(true);
                Pattern gpt2 = Pattern.compile(GPT2_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);
                return pieces -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < pieces.size(); i++) {
                        String s = pieces.get(i);
                        if (prefix && i == 0 && !s.startsWith(" ")) s = " " + s;
                        List<String> parts = useRegex ? split(s, gpt2, "Isolated", false) : List.of(s);
                        for (String part : parts) out.add(ByteLevel.encode(part));
                    }
                    return out;
                };
            }
            case "Split": {
                Pattern p = pattern(n.get("pattern"));
                String behavior = n.path("behavior").asText("Isolated");
                boolean invert = n.path("invert").asBoolean(false);
                return pieces -> {
                    List<String> out = new ArrayList<>();
                    for (String s : pieces) out.addAll(split(s, p, behavior, invert));
                    return out;
                };
            }
            case "Digits": {
                Pattern p = Pattern.compile(n.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+", Pattern.UNICODE_CHARACTER_CLASS);
                return pieces -> {
                    List<String> out = new ArrayList<>();
                    for (String s : pieces) out.addAll(split(s, p, "Isolated", false));
                    return out;
                };
            }
            case "Whitespace": {
                Pattern p = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);
                return pieces -> {
                    List<String> out = new ArrayList<>();
                    for (String s : pieces) out.addAll(split(s, p, "Removed", true));
                    return out;
                };
            }
            case "Metaspace": {
                String rep = n.path("replacement").asText("\u2581");
                String scheme = n.path("prepend_scheme").asText(n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                boolean splitPieces = n.path("split").asBoolean(true);
                Pattern p = Pattern.compile(Pattern.quote(rep));
                return pieces -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < pieces.size(); i++) {
                        String s = pieces.get(i).replace(" ", rep);
                        if ((scheme.equals("always") || (scheme.equals("first") && i == 0)) && !s.startsWith(rep)) s = rep + s;
                        if (splitPieces) out.addAll(split(s, p, "MergedWithNext", false));
                        else out.add(s);
                    }
                    return out;
                };
            }
            default: throw err("pre_tokenizer '" + type + "' is not supported");
        }
    }

    /** tokenizers' Split with its behaviors (matches become pieces of their own, are dropped, or join a neighbour). */
    static List<String> split(String s, Pattern p, String behavior, boolean invert) {
        List<int[]> spans = new ArrayList<>(); // [start, end, isMatch]
        Matcher m = p.matcher(s);
        int pos = 0;
        while (m.find()) {
            if (m.end() == m.start()) continue;
            if (m.start() > pos) spans.add(new int[]{pos, m.start(), 0});
            spans.add(new int[]{m.start(), m.end(), 1});
            pos = m.end();
        }
        if (pos < s.length()) spans.add(new int[]{pos, s.length(), 0});
        if (invert) for (int[] sp : spans) sp[2] = 1 - sp[2];
        List<String> out = new ArrayList<>();
        switch (behavior) {
            case "Isolated" -> { for (int[] sp : spans) out.add(s.substring(sp[0], sp[1])); }
            case "Removed" -> { for (int[] sp : spans) if (sp[2] == 0) out.add(s.substring(sp[0], sp[1])); }
            case "MergedWithPrevious" -> {
                StringBuilder cur = new StringBuilder();
                for (int[] sp : spans) {
                    cur.append(s, sp[0], sp[1]);
                    if (sp[2] == 1) { out.add(cur.toString()); cur.setLength(0); }
                }
                if (cur.length() > 0) out.add(cur.toString());
            }
            case "MergedWithNext" -> {
                StringBuilder cur = new StringBuilder();
                for (int[] sp : spans) {
                    if (sp[2] == 1 && cur.length() > 0) { out.add(cur.toString()); cur.setLength(0); }
                    cur.append(s, sp[0], sp[1]);
                }
                if (cur.length() > 0) out.add(cur.toString());
            }
            case "Contiguous" -> {
                StringBuilder cur = new StringBuilder();
                int last = -1;
                for (int[] sp : spans) {
                    if (sp[2] != last && cur.length() > 0) { out.add(cur.toString()); cur.setLength(0); }
                    cur.append(s, sp[0], sp[1]);
                    last = sp[2];
                }
                if (cur.length() > 0) out.add(cur.toString());
            }
            default -> throw new TokenizerException("split behavior '" + behavior + "' is not supported");
        }
        return out;
    }

    // ---------------------------------------------------------------- models

    private interface Model { int[] tokenize(String piece); }

    private final class WordLevel implements Model {
        private final Integer unk;
        WordLevel(JsonNode m) {
            String u = m.path("unk_token").asText(null);
            unk = u == null ? null : vocab.get(u);
        }
        public int[] tokenize(String piece) {
            Integer id = vocab.get(piece);
            if (id == null) id = unk;
            if (id == null) throw new TokenizerException(source + ": '" + piece + "' is not in the WordLevel vocabulary and there is no unk_token");
            return new int[]{id};
        }
    }

    private final class Bpe implements Model {
        private final Map<Long, int[]> merges = new HashMap<>(); // (left id, right id) -> {rank, merged id}
        private final boolean byteFallback, ignoreMerges, fuseUnk;
        private final Integer unk;

        Bpe(JsonNode m) {
            byteFallback = m.path("byte_fallback").asBoolean(false);
            ignoreMerges = m.path("ignore_merges").asBoolean(false);
            fuseUnk = m.path("fuse_unk").asBoolean(false);
            String u = m.path("unk_token").isTextual() ? m.get("unk_token").asText() : null;
            unk = u == null ? null : vocab.get(u);
            if (!m.path("continuing_subword_prefix").isNull() && m.has("continuing_subword_prefix")
                    || !m.path("end_of_word_suffix").isNull() && m.has("end_of_word_suffix"))
                throw err("BPE continuing_subword_prefix / end_of_word_suffix are not supported");
            int rank = 0;
            for (JsonNode mg : m.path("merges")) {
                String a, b;
                if (mg.isArray()) { a = mg.get(0).asText(); b = mg.get(1).asText(); }
                else {
                    String s = mg.asText();
                    int sp = s.indexOf(' ', 1);
                    if (sp < 0) throw err("merge '" + s + "' has no space");
                    a = s.substring(0, sp); b = s.substring(sp + 1);
                }
                Integer ia = vocab.get(a), ib = vocab.get(b), im = vocab.get(a + b);
                if (ia == null || ib == null || im == null) throw err("merge '" + a + " " + b + "' uses tokens outside the vocabulary");
                merges.putIfAbsent(key(ia, ib), new int[]{rank, im});
                rank++;
            }
        }

        private long key(int a, int b) { return ((long) a << 32) | (b & 0xffffffffL); }

        public int[] tokenize(String piece) {
            if (ignoreMerges) {
                Integer whole = vocab.get(piece);
                if (whole != null) return new int[]{whole};
            }
            IntList syms = new IntList();
            boolean lastUnk = false;
            for (int i = 0; i < piece.length(); ) {
                int cp = piece.codePointAt(i);
                String ch = new String(Character.toChars(cp));
                i += Character.charCount(cp);
                Integer id = vocab.get(ch);
                if (id != null) { syms.add(id); lastUnk = false; continue; }
                if (byteFallback) {
                    boolean all = true;
                    byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
                    int[] ids = new int[bytes.length];
                    for (int k = 0; k < bytes.length; k++) {
                        Integer b = vocab.get(String.format("<0x%02X>", bytes[k] & 0xff));
                        if (b == null) { all = false; break; }
                        ids[k] = b;
                    }
                    if (all) { for (int b : ids) syms.add(b); lastUnk = false; continue; }
                }
                if (unk == null) throw new TokenizerException(source + ": character U+" + Integer.toHexString(cp).toUpperCase()
                        + " is not in the vocabulary and there is no unk_token or byte fallback");
                if (!(fuseUnk && lastUnk)) syms.add(unk);
                lastUnk = true;
            }
            int[] s = syms.toArray();
            int n = s.length;
            while (n > 1) {
                int best = -1, bestRank = Integer.MAX_VALUE, bestId = -1;
                for (int i = 0; i + 1 < n; i++) {
                    int[] mg = merges.get(key(s[i], s[i + 1]));
                    if (mg != null && mg[0] < bestRank) { bestRank = mg[0]; best = i; bestId = mg[1]; }
                }
                if (best < 0) break;
                s[best] = bestId;
                System.arraycopy(s, best + 2, s, best + 1, n - best - 2);
                n--;
            }
            return Arrays.copyOf(s, n);
        }
    }

    // ---------------------------------------------------------------- post-processor

    private List<Object> template(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        if (type.equals("Sequence")) {
            List<Object> found = null;
            for (JsonNode c : n.path("processors")) { List<Object> t = template(c); if (t != null) found = t; }
            return found;
        }
        if (!type.equals("TemplateProcessing")) return null; // ByteLevel and friends do not change ids
        List<Object> items = new ArrayList<>();
        for (JsonNode item : n.path("single")) {
            if (item.has("SpecialToken")) items.add(item.get("SpecialToken").get("id").asText());
            else items.add(null);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.path("special_tokens").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode idsNode = e.getValue().get("ids");
            int[] ids = new int[idsNode.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = idsNode.get(i).asInt();
            templateSpecialIds.put(e.getKey(), ids);
        }
        return items;
    }

    // ---------------------------------------------------------------- decoders

    private interface Decoder { List<String> apply(List<String> tokens); }

    private void decoder(JsonNode n, List<Decoder> out) {
        if (n == null || n.isNull()) return;
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> { for (JsonNode c : n.path("decoders")) decoder(c, out); }
            case "ByteLevel" -> out.add(tokens -> {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                for (String t : tokens) ByteLevel.decodeToken(t, bytes);
                return List.of(bytes.toString(StandardCharsets.UTF_8));
            });
            case "Replace" -> {
                Pattern p = pattern(n.get("pattern"));
                String content = Matcher.quoteReplacement(n.get("content").asText());
                out.add(tokens -> { List<String> r = new ArrayList<>(); for (String t : tokens) r.add(p.matcher(t).replaceAll(content)); return r; });
            }
            case "ByteFallback" -> out.add(Tokenizer::byteFallback);
            case "Fuse" -> out.add(tokens -> List.of(String.join("", tokens)));
            case "Strip" -> {
                String c = n.path("content").asText(" ");
                int start = n.path("start").asInt(0), stop = n.path("stop").asInt(0);
                out.add(tokens -> {
                    List<String> r = new ArrayList<>();
                    for (String t : tokens) {
                        int b = 0, e = t.length();
                        for (int k = 0; k < start && t.startsWith(c, b); k++) b += c.length();
                        for (int k = 0; k < stop && e - c.length() >= b && t.startsWith(c, e - c.length()); k++) e -= c.length();
                        r.add(t.substring(b, e));
                    }
                    return r;
                });
            }
            case "Metaspace" -> {
                String rep = n.path("replacement").asText("\u2581");
                String scheme = n.path("prepend_scheme").asText(n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                out.add(tokens -> {
                    List<String> r = new ArrayList<>();
                    for (int i = 0; i < tokens.size(); i++) {
                        String t = tokens.get(i).replace(rep, " ");
                        if (i == 0 && !scheme.equals("never") && t.startsWith(" ")) t = t.substring(1);
                        r.add(t);
                    }
                    return r;
                });
            }
            default -> throw err("decoder '" + type + "' is not supported");
        }
    }

    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x([0-9A-Fa-f]{2})>");

    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>();
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        int pendingCount = 0;
        for (String t : tokens) {
            Matcher m = BYTE_TOKEN.matcher(t);
            if (m.matches()) { pending.write(Integer.parseInt(m.group(1), 16)); pendingCount++; continue; }
            if (pendingCount > 0) { flushBytes(pending, pendingCount, out); pending.reset(); pendingCount = 0; }
            out.add(t);
        }
        if (pendingCount > 0) flushBytes(pending, pendingCount, out);
        return out;
    }

    private static void flushBytes(ByteArrayOutputStream pending, int count, List<String> out) {
        byte[] b = pending.toByteArray();
        java.nio.charset.CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder();
        try {
            out.add(dec.decode(java.nio.ByteBuffer.wrap(b)).toString());
        } catch (java.nio.charset.CharacterCodingException e) {
            for (int i = 0; i < count; i++) out.add("\uFFFD"); // tokenizers emits one replacement per invalid byte
        }
    }

    // ---------------------------------------------------------------- util

    private static final class IntList {
        int[] a = new int[16];
        int n;
        void add(int v) { if (n == a.length) a = Arrays.copyOf(a, n * 2); a[n++] = v; }
        int[] toArray() { return Arrays.copyOf(a, n); }
    }
}
