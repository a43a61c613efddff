package org.dnonative.oracle.judge;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A judge prompt with {@code {{name}}} placeholders. Substitution is a single pass, so a response
 * that itself contains {@code {{prompt}}} is shown as written, never expanded.
 */
public final class PromptTemplate {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*}}");

    private final String text;
    private final Set<String> placeholders;

    /**
     * @param text     the template
     * @param required placeholders the template must use (a judge prompt without the responses
     *                 would silently judge nothing)
     */
    public PromptTemplate(String text, Set<String> required) {
        this.text = Objects.requireNonNull(text, "text");
        Set<String> found = new LinkedHashSet<>();
        Matcher m = PLACEHOLDER.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        for (String name : required) {
            if (!found.contains(name)) {
                throw new IllegalArgumentException("template must use the placeholder {{" + name + "}}");
            }
        }
        this.placeholders = Set.copyOf(found);
    }

    public static PromptTemplate fromFile(Path file, Set<String> required) {
        try {
            return new PromptTemplate(Files.readString(file, StandardCharsets.UTF_8), required);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read template " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static String resource(String name) {
        try (InputStream in = PromptTemplate.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name + " next to " + PromptTemplate.class);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The template as written: part of the judgment cache's key. */
    public String text() {
        return text;
    }

    public Set<String> placeholders() {
        return placeholders;
    }

    /** Fills every placeholder; a placeholder without a value is an error, not an empty string. */
    public String render(Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder(text.length() + 256);
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) {
                throw new IllegalArgumentException("no value for the template's placeholder {{" + m.group(1) + "}}");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
