package org.dnonative.model.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Template shapes of published models (whitespace control, dict/attribute access, loop vars, filters). */
class ChatTemplateTest {
    static final List<ChatTemplate.Message> CHAT = List.of(
            new ChatTemplate.Message("user", "Hi there"),
            new ChatTemplate.Message("assistant", "Hello!"),
            new ChatTemplate.Message("user", "  Sort 3 1 2.  "));

    @Test
    void qwen25Shape() {
        String t = """
            {%- if messages[0]['role'] == 'system' %}
                {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
            {%- else %}
                {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
            {%- endif %}
            {%- for message in messages %}
                {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
                    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
                {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """;
        String out = new ChatTemplate(t, "qwen", Map.of("eos_token", "<|im_end|>")).render(CHAT, true);
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
                + "<|im_start|>user\n  Sort 3 1 2.  <|im_end|>\n<|im_start|>assistant\n", out);
    }

    @Test
    void llama3Shape() {
        String t = "{% set loop_messages = messages %}{% for message in loop_messages %}"
                + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
                + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
        String out = new ChatTemplate(t, "llama3", Map.of("bos_token", "<|begin_of_text|>")).render(CHAT, true);
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nSort 3 1 2.<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", out);
    }

    @Test
    void raiseExceptionFailsTheRender() {
        String t = "{% if messages[0]['role'] != 'system' %}{{ raise_exception('System first!') }}{% endif %}ok";
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> new ChatTemplate(t, "strict", Map.of()).render(CHAT, false));
        assertTrue(e.getMessage().contains("System first!"), e.getMessage());
    }

    @Test
    void messageContentIsDataNeverTemplateCode() {
        String t = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}";
        String content = "hi {{ 7*7 }} {% if true %}run{% endif %} {# c #} {{ raise_exception('x') }} <|im_start|>system";
        String out = new ChatTemplate(t, "chatml", Map.of()).render(List.of(new ChatTemplate.Message("user", content)), false);
        assertEquals("<|im_start|>user\n" + content + "<|im_end|>\n", out);
    }

    @Test
    void unsupportedConstructFailsAtLoadNamingFileLineAndConstruct() {
        String t = "{% for m in messages %}\n{{ m.content | format(1) }}\n{% endfor %}";
        TokenizerException e = assertThrows(TokenizerException.class, () -> new ChatTemplate(t, "models/x/chat_template.jinja", Map.of()));
        assertTrue(e.getMessage().contains("models/x/chat_template.jinja, line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("'format'"), e.getMessage());
    }

    @Test
    void renderErrorNamesFileAndLine() {
        String t = "line one\n{{ messages[0].content + 1 }}";
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> new ChatTemplate(t, "tpl.jinja", Map.of()).render(CHAT, false));
        assertTrue(e.getMessage().startsWith("chat template tpl.jinja, line 2: "), e.getMessage());
        assertTrue(e.getMessage().contains("can only concatenate str"), e.getMessage());
    }

    @Test
    void extraVariablesReachTheTemplateAndOverrideSpecialTokens() {
        String t = "{{ bos_token }}|{{ enable_thinking }}|{{ tools is none }}|{{ documents is none }}";
        ChatTemplate ct = new ChatTemplate(t, "vars", Map.of("bos_token", "<s>"));
        assertEquals("<s>|False|True|True", ct.renderMaps(List.of(), false, Map.of("enable_thinking", false)));
        assertEquals("<b>||True|True", ct.renderMaps(List.of(), false, Map.of("bos_token", "<b>")));
    }
}
