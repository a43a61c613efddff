package org.dnonative.model.tokenizer;

/** tokenizer.json's "model": turns one pre-tokenized piece into ids. */
interface TokenModel {
    /** Appends the ids of {@code piece} (never empty) to {@code out}. */
    void tokenize(String piece, IntList out);
}
