package org.dnonative.dno;

/**
 * A configuration or prompt file that cannot be used. The message names the file, the line where
 * known, and the field; the command line reports it with exit code 2.
 */
public class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
