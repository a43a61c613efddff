package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A HuggingFace chat template rendered by Jinjava, configured so that HF's whitespace control
 * ({@code {%- -%}}, trim_blocks, lstrip_blocks) and Python-ish semantics render byte-exact.
 * The template comes from {@code chat_template.jinja} or the {@code chat_template} field of
 * {@code tokenizer_config.json}.
 */
public final class ChatTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String template;
    private final String source;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    /** One chat message. */
    public record Message(String role, String content) {}

    public ChatTemplate(String template, String source, Map<String, Object> specialTokens) {
        this.template = template;
        this.source = source;
        this.specialTokens = specialTokens;
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withHandleBackslashInQuotesOnly(true)
                        .withUsePyishObjectMapper(true)
                        .build())
                .build();
        jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));
    }

    /** The message of the template's last raise_exception call on this thread (Jinjava wraps the exception itself). */
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    public static String raiseException(String message) {
        RAISED.set(message);
        throw new TokenizerException("chat template raised: " + message);
    }

    public static String strftimeNow(String format) {
        // the common formats in published templates
        String f = format.replace("%d", "dd").replace("%b", "MMM").replace("%Y", "yyyy").replace("%m", "MM").replace("%B", "MMMM");
        return LocalDateTime.now().format(DateTimeFormatter.ofPattern(f));
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
        List<Map<String, Object>> msgs = new java.util.ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> map = new java.util.LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            msgs.add(map);
        }
        return renderMaps(msgs, addGenerationPrompt);
    }

    public String renderMaps(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        RAISED.remove();
        RenderResult r = jinjava.renderForResult(template, vars);
        String raised = RAISED.get();
        RAISED.remove();
        if (raised != null) throw new TokenizerException(source + ": chat template raised an exception: " + raised);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL)
                throw new TokenizerException(source + ": chat template failed: " + e.getMessage());
        }
        return r.getOutput();
    }

    public String source() { return source; }

    /** The template text. */
    public String text() { return template; }

    /** bos_token, eos_token, ... as passed to the template. */
    public Map<String, Object> specialTokens() { return Map.copyOf(specialTokens); }
}
