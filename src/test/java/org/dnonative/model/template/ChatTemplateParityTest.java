package org.dnonative.model.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dnonative.model.tokenizer.ChatTemplate;
import org.dnonative.model.tokenizer.TokenizerException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real chat templates of src/test/fixtures/chat-templates rendered over every conversation
 * there, compared byte for byte with what transformers' apply_chat_template rendered (see
 * src/test/fixtures-gen/chat_templates.py), including the exceptions the templates raise.
 */
class ChatTemplateParityTest {
    static final Path ROOT = Path.of(System.getProperty("dno.fixtures", "test/fixtures"), "chat-templates");
    /** The generator's fixed clock for strftime_now. */
    static final ZonedDateTime FIXED_NOW = ZonedDateTime.of(2026, 3, 5, 14, 7, 9, 0, ZoneOffset.UTC);
    static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> templateDirs() throws IOException {
        try (Stream<Path> s = Files.list(ROOT)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    static JsonNode cases(Path dir) throws IOException {
        return JSON.readTree(Files.readString(dir.resolve("cases.json")));
    }

    @SuppressWarnings("unchecked")
    static String render(ChatTemplate t, JsonNode c) {
        List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), List.class);
        Map<String, Object> kwargs = JSON.convertValue(c.get("kwargs"), Map.class);
        return t.renderMaps(messages, c.get("add_generation_prompt").asBoolean(), kwargs);
    }

    @TestFactory
    List<DynamicTest> everyTemplateOnEveryConversationMatchesTransformers() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path dir : templateDirs()) {
            ChatTemplate template = ChatTemplate.load(dir).withClock(() -> FIXED_NOW);
            for (JsonNode c : cases(dir)) {
                String name = dir.getFileName() + " / " + c.get("name").asText() + " / add_generation_prompt=" + c.get("add_generation_prompt");
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    if (c.has("error")) {
                        TokenizerException e = assertThrows(TokenizerException.class, () -> render(template, c));
                        assertTrue(e.getMessage().contains(c.get("error").asText()), e.getMessage());
                        assertTrue(e.getMessage().contains(dir.getFileName().toString()), "names the template: " + e.getMessage());
                    } else {
                        assertEquals(c.get("expected").asText(), render(template, c));
                    }
                }));
            }
        }
        return tests;
    }

    @Test
    void fixturesCoverTheRequiredTemplatesAndConversations() throws IOException {
        Set<String> names = new HashSet<>();
        for (Path dir : templateDirs()) {
            names.add(dir.getFileName().toString());
            Set<String> conversations = new HashSet<>();
            Set<String> withBothPrompts = new HashSet<>();
            Set<String> seen = new HashSet<>();
            for (JsonNode c : cases(dir)) {
                String n = c.get("name").asText();
                conversations.add(n);
                if (!seen.add(n)) withBothPrompts.add(n);
            }
            assertTrue(conversations.size() >= 10, dir + " has " + conversations.size() + " conversations");
            assertEquals(conversations, withBothPrompts, dir + ": every conversation with both add_generation_prompt values");
        }
        for (String required : List.of("llama-3", "llama-3.1", "llama-3.2", "qwen2.5", "qwen3", "gemma-3", "mistral-nemo", "mistral-7b-instruct", "mistral-small-3", "devstral",
                "deepseek-v3", "deepseek-r1", "phi-4", "smollm2", "smollm3"))
            assertTrue(names.contains(required), "fixture for " + required);
    }
}
