package org.dnonative.model.tokenizer;

/** The WordLevel model: each piece is one vocabulary entry, or the unk token. */
final class WordLevelModel implements TokenModel {
    private final Vocab vocab;
    private final int unk;   // -1 = none
    private final String source;

    WordLevelModel(Vocab vocab, String unkToken, String source) {
        this.vocab = vocab;
        this.unk = unkToken == null ? -1 : vocab.get(unkToken);
        this.source = source;
        if (unkToken != null && unk < 0) throw new TokenizerException(source + ": WordLevel unk_token '" + unkToken + "' is not in the vocabulary");
    }

    @Override
    public void tokenize(String piece, IntList out) {
        int id = vocab.get(piece);
        if (id < 0) id = unk;
        if (id < 0) throw new TokenizerException(source + ": '" + piece + "' is not in the WordLevel vocabulary and there is no unk_token");
        out.add(id);
    }
}
