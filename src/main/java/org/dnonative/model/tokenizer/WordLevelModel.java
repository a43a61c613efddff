package org.dnonative.model.tokenizer;

import java.util.Map;

/** The WordLevel model: each piece is one vocabulary entry, or the unk token. */
final class WordLevelModel implements TokenModel {
    private final Map<String, Integer> vocab;
    private final Integer unk;
    private final String source;

    WordLevelModel(Map<String, Integer> vocab, String unkToken, String source) {
        this.vocab = vocab;
        this.unk = unkToken == null ? null : vocab.get(unkToken);
        this.source = source;
        if (unkToken != null && unk == null) throw new TokenizerException(source + ": WordLevel unk_token '" + unkToken + "' is not in the vocabulary");
    }

    @Override
    public void tokenize(String piece, IntList out) {
        Integer id = vocab.get(piece);
        if (id == null) id = unk;
        if (id == null) throw new TokenizerException(source + ": '" + piece + "' is not in the WordLevel vocabulary and there is no unk_token");
        out.add(id);
    }
}
