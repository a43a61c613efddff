package org.dnonative.model;

/** A model directory that cannot be used: missing files, unknown architectures, mismatched tensors. */
public class ModelException extends RuntimeException {
    public ModelException(String message) { super(message); }
    public ModelException(String message, Throwable cause) { super(message, cause); }
}
