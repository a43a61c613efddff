package org.dnonative.model.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pure-Java HuggingFace {@code tokenizer.json} that gives HF tokenizers' ids and decodes: added
 * tokens ({@link AddedVocabulary}), then per piece the normalizer ({@link Normalizers}), the
 * pre-tokenizer ({@link PreTokenizers}), the model ({@link BpeModel}, {@link WordLevelModel}), and
 * for {@code addSpecialTokens} the post-processor ({@link PostProcessor}); decoding through
 * {@link Decoders}. Regexes run with HF's Unicode tables ({@link HfRegex}). What it does not
 * support is refused at load with the file and the construct named. Nothing is downloaded and
 * nothing is truncated. Thread-safe.
 */
public final class Tokenizer {
    private final String source;
    private final byte[] jsonBytes;
    private final Vocab vocab;
    private final Map<String, Integer> addedTokens = new HashMap<>();
    private final String[] addedById;   // added tokens' contents by id (they decode before the vocab's)
    private final int vocabSize;
    private final Set<Integer> specialIds = new HashSet<>();
    private final AddedVocabulary added;
    private final Normalizers.Normalizer normalizer;
    private final PreTokenizers.PreTokenizer preTokenizer;
    private final TokenModel model;
    private final PostProcessor postProcessor;
    private final List<Decoders.Decoder> decoders = new ArrayList<>();

    // ---------------------------------------------------------------- loading

    public static Tokenizer load(Path tokenizerJson) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(tokenizerJson + ": missing");
        } catch (IOException e) {
            throw new TokenizerException(tokenizerJson + ": " + e.getMessage(), e);
        }
        return new Tokenizer(tokenizerJson.toString(), bytes);
    }

    /** A tokenizer from the text of a tokenizer.json; {@code sourceName} appears in error messages. */
    public static Tokenizer fromJson(String json, String sourceName) {
        return new Tokenizer(sourceName, json.getBytes(StandardCharsets.UTF_8));
    }

    /** The tokenizer.json text this tokenizer was read from (written back unchanged on save). */
    public String json() { return new String(jsonBytes, StandardCharsets.UTF_8); }

    private Tokenizer(String source, byte[] json) {
        this.source = source;
        this.jsonBytes = json;
        TokenizerFile f = TokenizerFile.parse(json, source);
        vocab = f.vocab;
        int maxAdded = -1;
        List<AddedVocabulary.Token> tokens = new ArrayList<>();
        Json addedNode = f.section("added_tokens");
        if (addedNode != null) for (Json a : addedNode) {
            if (!a.path("content").isTextual() || !a.path("id").canConvertToInt())
                throw new TokenizerException(source + ": added token " + a + " has no content or id");
            AddedVocabulary.Token t = new AddedVocabulary.Token(a.get("content").asText(), a.get("id").asInt(),
                    a.path("special").asBoolean(false), a.path("lstrip").asBoolean(false), a.path("rstrip").asBoolean(false),
                    a.path("single_word").asBoolean(false), a.path("normalized").asBoolean(!a.path("special").asBoolean(false)));
            tokens.add(t);
            addedTokens.put(t.content(), t.id());
            if (t.special()) specialIds.add(t.id());
            maxAdded = Math.max(maxAdded, t.id());
        }
        vocabSize = Math.max(vocab.maxId(), maxAdded) + 1;
        addedById = new String[maxAdded + 1];
        for (AddedVocabulary.Token t : tokens) if (t.id() >= 0) addedById[t.id()] = t.content();
        normalizer = Normalizers.of(f.section("normalizer"), source);
        added = new AddedVocabulary(tokens, normalizer);
        preTokenizer = PreTokenizers.of(f.section("pre_tokenizer"), source);
        model = model(f);
        postProcessor = PostProcessor.of(f.section("post_processor"), source);
        Decoders.of(f.section("decoder"), source, decoders);
    }

    private TokenModel model(TokenizerFile f) {
        Json m = f.model;
        String type = m.path("type").asText(f.mergeCount == 0 && !m.has("merges") ? "" : "BPE");
        if (type.isEmpty() && m.has("unk_token") && !m.has("merges")) type = "WordLevel";
        String at = source.concat(": model ").concat(type);   // concat, not +: see Normalizers.of
        switch (type) {
            case "BPE": {
                if (!m.path("dropout").isNull() && m.has("dropout") && m.get("dropout").asDouble() != 0)
                    throw new TokenizerException(at + ": dropout is not supported (encoding would be random)");
                return new BpeModel(vocab, f.charIds, f.byteIds, f.merges, f.mergeCount, f.badMerge, textOrNull(m, "unk_token"), m.path("byte_fallback").asBoolean(false),
                        m.path("ignore_merges").asBoolean(false), m.path("fuse_unk").asBoolean(false),
                        textOrNull(m, "continuing_subword_prefix"), textOrNull(m, "end_of_word_suffix"), at);
            }
            case "WordLevel": return new WordLevelModel(vocab, textOrNull(m, "unk_token"), at);
            default: throw new TokenizerException(source + ": model type '" + type + "' is not supported (BPE, WordLevel)");
        }
    }

    private static String textOrNull(Json m, String field) {
        Json v = m.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    // ---------------------------------------------------------------- public API

    /** One more than the largest id of the vocabulary and the added tokens. */
    public int vocabSize() { return vocabSize; }

    /** The id of a token (added tokens first, then the vocabulary), or null. */
    public Integer tokenId(String token) {
        Integer id = addedTokens.get(token);
        if (id != null) return id;
        int v = vocab.get(token);
        return v >= 0 ? v : null;
    }

    public String token(int id) {
        String t = id >= 0 && id < addedById.length ? addedById[id] : null;
        return t != null ? t : vocab.token(id);
    }

    public boolean isSpecial(int id) { return specialIds.contains(id); }

    /** The ids of the special added tokens. */
    public Set<Integer> specialIds() { return Collections.unmodifiableSet(specialIds); }

    /** Encodes without adding special tokens (what chat templates and DNO's scoring need). */
    public int[] encode(String text) { return encode(text, false); }

    /** HF's {@code encode(text, add_special_tokens)}; special-token strings in the text become their ids. */
    public int[] encode(String text, boolean addSpecialTokens) {
        checkSurrogates(text);
        IntList out = new IntList();
        added.splitRaw(text, new AddedVocabulary.Sink() {
            @Override public void token(int id) { out.add(id); }
            @Override public void text(String segment, boolean atStart) {
                String normalized = normalizer == null ? segment : normalizer.apply(segment);
                if (normalized.isEmpty()) return;
                added.splitNormalized(normalized, new AddedVocabulary.Sink() {
                    @Override public void token(int id) { out.add(id); }
                    @Override public void text(String piece, boolean first) { encodePiece(piece, atStart && first, out); }
                });
            }
        });
        int[] ids = out.toArray();
        return addSpecialTokens && postProcessor != null ? postProcessor.apply(ids) : ids;
    }

    private void encodePiece(String text, boolean atStart, IntList out) {
        if (preTokenizer == null) { model.tokenize(text, out); return; }
        for (String p : preTokenizer.apply(List.of(text), atStart)) if (!p.isEmpty()) model.tokenize(p, out);
    }

    /** HF cannot take text with an unpaired surrogate (it is not Unicode text); say so rather than guess. */
    private void checkSurrogates(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) { i++; continue; }
            throw new TokenizerException(source + ": text has an unpaired surrogate U+" + Integer.toHexString(c).toUpperCase() + " at index " + i);
        }
    }

    public String decode(int[] ids) { return decode(ids, false); }

    /** HF's {@code decode}: ids with no token (negative, or past the vocabulary: padded lm_heads) decode to nothing. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (skipSpecialTokens && specialIds.contains(id)) continue;
            String t = token(id);
            if (t != null) tokens.add(t);
        }
        if (decoders.isEmpty()) return String.join(" ", tokens);
        for (Decoders.Decoder d : decoders) tokens = d.apply(tokens);
        return String.join("", tokens);
    }
}
