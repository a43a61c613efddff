package org.dnonative.model.template;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Hostile or broken templates fail with a TemplateException naming template and line; nothing escapes the sandbox. */
class TemplateSafetyTest {
    static TemplateException fails(String source) {
        return assertThrows(TemplateException.class, () -> JinjaTemplate.parse(source, "evil.jinja").render(Map.of("messages", List.of())));
    }

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String parens = "(".repeat(5000) + "1" + ")".repeat(5000);
        assertTrue(fails("{{ " + parens + " }}").getMessage().startsWith("evil.jinja, line 1: "));
        assertTrue(fails("{{ " + "not ".repeat(5000) + "x }}").detail().contains("nested deeper"));
        assertTrue(fails("{{ " + "-".repeat(5000) + "1 }}").detail().contains("nested deeper"));
        assertTrue(fails("{% if true %}".repeat(5000)).detail().contains("nested deeper"));
    }

    @Test
    void aNamespaceThatContainsItselfIsAnError() {
        assertTrue(fails("{% set ns = namespace(a=1) %}{% set ns.a = ns %}{{ ns }}").detail().contains("nested too deeply"));
    }

    @Test
    void resourceLimits() {
        assertTrue(fails("{{ range(1000000) | length }}").detail().contains("MAX_RANGE"));
        assertTrue(fails("{{ 'x' * 100000000 }}").detail().contains("too large"));
        assertTrue(fails("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").detail().contains("nested deeper"));
        assertTrue(fails("{{ 9223372036854775807 + 1 }}").detail().contains("overflow"));
    }

    @Test
    void noJavaObjectIsReachable() {
        // attributes that would reach Java (or Python internals) are just undefined
        String out = JinjaTemplate.parse("{{ messages.getClass is defined }}{{ ''.__class__ is defined }}{{ range.__globals__ is defined }}"
                + "{{ messages.class is defined }}", "t").render(Map.of("messages", List.of()));
        assertEquals("FalseFalseFalseFalse", out);
    }

    @Test
    void brokenSyntaxNamesTheLine() {
        assertEquals("evil.jinja, line 3: unexpected end of template: a block is never closed (expected 'else' or 'endfor')",
                fails("a\nb\n{% for x in y %}").getMessage());
        assertTrue(fails("x\n{{ 'unterminated }}").getMessage().startsWith("evil.jinja, line 2: "));
        assertTrue(fails("{{ 1 }\n}").getMessage().startsWith("evil.jinja, line 1: "));
        assertTrue(fails("{% endif %}").detail().contains("endif"));
    }
}
