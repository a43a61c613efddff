package org.dnonative.model.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One construct of the chat-template dialect per case (dialect.json, written by
 * src/test/fixtures-gen/chat_templates.py with transformers' own Jinja2 environment): the output
 * must be byte-identical; where Jinja2 fails, this engine must fail too, naming template and line;
 * where this engine does not support a construct Jinja2 has, the error must name the construct.
 */
class DialectParityTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> eachConstructRendersAsJinja2() throws IOException {
        JsonNode cases = JSON.readTree(Files.readString(ChatTemplateParityTest.ROOT.resolve("dialect.json")));
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : cases) {
            String name = "dialect/" + c.get("name").asText();
            String source = c.get("template").asText();
            Map<String, Object> vars = JSON.convertValue(c.get("vars"), Map.class);
            tests.add(DynamicTest.dynamicTest(name, () -> {
                if (c.has("expected")) {
                    String out = JinjaTemplate.parse(source, name).render(vars, () -> ChatTemplateParityTest.FIXED_NOW);
                    assertEquals(c.get("expected").asText(), out, source);
                    return;
                }
                TemplateException e = assertThrows(TemplateException.class,
                        () -> JinjaTemplate.parse(source, name).render(vars, () -> ChatTemplateParityTest.FIXED_NOW), source);
                assertTrue(e.getMessage().startsWith(name + ", line 1: "), e.getMessage());
                if (c.has("unsupported")) assertTrue(e.detail().contains(c.get("unsupported").asText()), e.getMessage());
                if (c.get("name").asText().equals("raise-exception")) {
                    assertTrue(e.raised());
                    assertEquals(c.get("error").asText(), e.detail());
                } else assertFalse(e.raised(), e.getMessage());
            }));
        }
        return tests;
    }
}
