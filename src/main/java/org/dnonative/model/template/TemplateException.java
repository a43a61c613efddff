package org.dnonative.model.template;

/**
 * A template that cannot be parsed or rendered. The message names the template and the line, so a
 * user can find the construct; {@link #raised()} tells a template's own {@code raise_exception(...)}
 * apart from an engine error.
 */
public final class TemplateException extends RuntimeException {
    private final boolean raised;
    private final String detail;

    TemplateException(String source, int line, String detail, boolean raised) {
        super(source + (line > 0 ? ", line " + line : "") + ": " + detail);
        this.detail = detail;
        this.raised = raised;
    }

    /** True when the template itself called raise_exception (the message is then the template's). */
    public boolean raised() { return raised; }

    /** The message without the template name and line. */
    public String detail() { return detail; }
}
