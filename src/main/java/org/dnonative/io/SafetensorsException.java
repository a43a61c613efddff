package org.dnonative.io;

import java.io.IOException;

/** A safetensors file that breaks the format's rules; the message names the file and, where known, the tensor. */
public class SafetensorsException extends IOException {
    public SafetensorsException(String message) { super(message); }
    public SafetensorsException(String message, Throwable cause) { super(message, cause); }
}
