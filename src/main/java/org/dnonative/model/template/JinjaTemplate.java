package org.dnonative.model.template;

import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A Jinja2 template in the dialect of HuggingFace chat templates, rendered as transformers'
 * {@code apply_chat_template} renders it (an ImmutableSandboxedEnvironment with trim_blocks and
 * lstrip_blocks, loopcontrols, {@code {% generation %}}, and transformers' tojson, raise_exception
 * and strftime_now). The template is parsed once; the values passed to {@link #render} are data and
 * are never parsed as template code. Constructs outside the dialect fail with a
 * {@link TemplateException} that names the template, the line and the construct.
 */
public final class JinjaTemplate {
    private final String name;
    private final List<Node> body;

    private JinjaTemplate(String name, List<Node> body) {
        this.name = name;
        this.body = body;
    }

    /** Parses a template; {@code name} (a file name) prefixes every error message. */
    public static JinjaTemplate parse(String source, String name) {
        return new JinjaTemplate(name, Parser.parse(source, name));
    }

    /** Renders with the given variables (String, Boolean, Number, null, List, Map values), strftime_now on the local clock. */
    public String render(Map<String, ?> vars) {
        return render(vars, ZonedDateTime::now);
    }

    public String render(Map<String, ?> vars, Supplier<ZonedDateTime> clock) {
        @SuppressWarnings("unchecked")
        Map<String, Object> v = (Map<String, Object>) vars;
        return new Interpreter(name, Globals.create(clock)).render(body, v);
    }

    public String name() { return name; }
}
