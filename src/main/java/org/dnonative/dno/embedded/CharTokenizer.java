package org.dnonative.dno.embedded;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.model.tokenizer.ChatTemplate;
import org.dnonative.model.tokenizer.Tokenizer;

import java.util.List;
import java.util.Map;

/**
 * The embedded run's character-level tokenizer, written as an ordinary HuggingFace
 * {@code tokenizer.json} (a BPE model with no merges: every character is a token), and its compact
 * chat template, so every checkpoint of the embedded run loads in transformers like any other.
 */
public final class CharTokenizer {
    private CharTokenizer() {}

    public static final String PAD = "<pad>";
    public static final String USER = "<|user|>";
    public static final String ASSISTANT = "<|assistant|>";
    public static final String END = "<|end|>";
    /** Special tokens first, so their ids are 0..3: pad 0, eos 3. */
    public static final List<String> SPECIALS = List.of(PAD, USER, ASSISTANT, END);
    public static final int PAD_ID = 0;
    public static final int EOS_ID = 3;
    /** Enough for arithmetic prompts and the three answer styles, and a little more. */
    public static final String ALPHABET = "0123456789+-*=? .abcdefghijklmnopqrstuvwxyz";

    public static final String CHAT_TEMPLATE = "{% for m in messages %}{% if m['role'] == 'user' %}" + USER
            + "{{ m['content'] }}{% else %}" + ASSISTANT + "{{ m['content'] }}" + END + "{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}" + ASSISTANT + "{% endif %}";

    public static String tokenizerJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode vocab = json.createObjectNode();
        int id = 0;
        for (String s : SPECIALS) {
            added.addObject().put("id", id).put("content", s).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
            vocab.put(s, id++);
        }
        for (char c : ALPHABET.toCharArray()) vocab.put(String.valueOf(c), id++);
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", PAD);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.set("vocab", vocab);
        model.putArray("merges");
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static Tokenizer tokenizer() {
        return Tokenizer.fromJson(tokenizerJson(), "<embedded char-level tokenizer>");
    }

    public static ChatTemplate chatTemplate() {
        return new ChatTemplate(CHAT_TEMPLATE, "<embedded chat template>", Map.of("eos_token", END, "pad_token", PAD));
    }
}
