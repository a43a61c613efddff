package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dnonative.model.template.JinjaTemplate;
import org.dnonative.model.template.TemplateException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A HuggingFace chat template, rendered byte-exact with transformers' {@code apply_chat_template}
 * by the sandboxed Jinja2-dialect interpreter in {@code org.dnonative.model.template}. Message
 * contents are data: a message that contains {@code {{ 7*7 }}} renders those characters verbatim.
 * The template comes from {@code chat_template.jinja} or the {@code chat_template} field of
 * {@code tokenizer_config.json}; it is parsed when this object is built, so a template outside
 * the supported dialect fails at load time with a message naming the file, line and construct.
 */
public final class ChatTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String template;
    private final String source;
    private final Map<String, Object> specialTokens;
    private final JinjaTemplate compiled;
    private final Supplier<ZonedDateTime> clock;

    /** One chat message. */
    public record Message(String role, String content) {}

    public ChatTemplate(String template, String source, Map<String, Object> specialTokens) {
        this(template, source, specialTokens, ZonedDateTime::now);
    }

    /** With the clock strftime_now reads (tests fix it). */
    public ChatTemplate(String template, String source, Map<String, Object> specialTokens, Supplier<ZonedDateTime> clock) {
        this.template = template;
        this.source = source;
        this.specialTokens = new HashMap<>(specialTokens);
        this.clock = clock;
        try {
            this.compiled = JinjaTemplate.parse(template, source);
        } catch (TemplateException e) {
            throw new TokenizerException("chat template " + e.getMessage(), e);
        }
    }

    /**
     * Loads the template of a model or tokenizer directory, or returns null when it has none.
     * Special tokens (bos_token, eos_token, ...) come from tokenizer_config.json.
     */
    public static ChatTemplate load(Path dir) {
        Path cfgPath = dir.resolve("tokenizer_config.json");
        Map<String, Object> specials = new HashMap<>();
        String fromConfig = null;
        try {
            if (Files.exists(cfgPath)) {
                JsonNode cfg = JSON.readTree(Files.readString(cfgPath));
                for (String key : List.of("bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token")) {
                    String v = tokenContent(cfg.get(key));
                    if (v != null) specials.put(key, v);
                }
                JsonNode t = cfg.get("chat_template");
                if (t != null && t.isTextual()) fromConfig = t.asText();
                else if (t != null && t.isArray()) {
                    for (JsonNode named : t) if (named.path("name").asText().equals("default")) fromConfig = named.path("template").asText();
                }
            }
            Path jinja = dir.resolve("chat_template.jinja");
            if (Files.exists(jinja)) return new ChatTemplate(Files.readString(jinja), jinja.toString(), specials);
            if (fromConfig != null) return new ChatTemplate(fromConfig, cfgPath + " (chat_template)", specials);
            return null;
        } catch (IOException e) {
            throw new TokenizerException(cfgPath + ": " + e.getMessage(), e);
        }
    }

    static String tokenContent(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.has("content")) return n.get("content").asText();
        return null;
    }

    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            msgs.add(map);
        }
        return renderMaps(msgs, addGenerationPrompt);
    }

    public String renderMaps(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return renderMaps(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders messages given as maps (role, content, and whatever else the template reads:
     * reasoning_content, tool_calls, ...). {@code extra} holds the other variables transformers
     * passes through, e.g. tools, documents, enable_thinking, date_string; as in transformers, they
     * override the special tokens.
     */
    public String renderMaps(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        // transformers always passes these two (None when absent), so templates see them as defined
        vars.put("tools", null);
        vars.put("documents", null);
        vars.putAll(extra);
        try {
            return compiled.render(vars, clock);
        } catch (TemplateException e) {
            if (e.raised()) throw new TokenizerException(source + ": chat template raised an exception: " + e.detail(), e);
            throw new TokenizerException("chat template " + e.getMessage(), e);
        }
    }

    /** The same template with the clock strftime_now reads (tests fix it). */
    public ChatTemplate withClock(Supplier<ZonedDateTime> clock) {
        return new ChatTemplate(template, source, specialTokens, clock);
    }

    public String source() { return source; }

    /** The template text. */
    public String text() { return template; }

    /** bos_token, eos_token, ... as passed to the template. */
    public Map<String, Object> specialTokens() { return Map.copyOf(specialTokens); }
}
