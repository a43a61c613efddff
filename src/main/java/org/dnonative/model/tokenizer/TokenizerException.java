package org.dnonative.model.tokenizer;

/** A tokenizer file this implementation cannot use; the message names the file and the component. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) { super(message); }
    public TokenizerException(String message, Throwable cause) { super(message, cause); }
}
