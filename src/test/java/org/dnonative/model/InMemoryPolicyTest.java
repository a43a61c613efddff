package org.dnonative.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.tokenizer.ChatTemplate;
import org.dnonative.model.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** What the embedded default run needs: a random small Llama with a character-level tokenizer, built, sampled, saved and reloaded. */
class InMemoryPolicyTest {
    static final Device CPU = new Device(torch.DeviceType.CPU);

    static String charTokenizerJson(String alphabet, List<String> specials) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        var added = root.putArray("added_tokens");
        ObjectNode vocab = json.createObjectNode();
        int id = 0;
        for (String s : specials) {
            added.addObject().put("id", id).put("content", s).put("special", true).put("normalized", false);
            vocab.put(s, id++);
        }
        for (char c : alphabet.toCharArray()) vocab.put(String.valueOf(c), id++);
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.put("unk_token", "<unk>");
        model.set("vocab", vocab);
        model.putArray("merges");
        return json.writeValueAsString(root);
    }

    @Test
    void charLevelRandomLlamaSamplesSavesAndReloads(@TempDir Path dir) throws Exception {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 +-=?.\n";
        Tokenizer tok = Tokenizer.fromJson(charTokenizerJson(alphabet, List.of("<pad>", "<unk>", "<|im_start|>", "<|im_end|>")), "<built-in>");
        String template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        ChatTemplate chat = new ChatTemplate(template, "<built-in>", Map.of("eos_token", "<|im_end|>", "pad_token", "<pad>"));
        ModelConfig cfg = ModelConfig.of(ModelConfig.Architecture.LLAMA, tok.vocabSize(), 64, 128, 2, 4, 2, 256, true, null, 3, 0);
        try (Policy p = Policy.of(CausalLM.random(cfg, 11, CPU), tok, chat)) {
            int[] prompt = p.encodeUserPrompt("2+3=?");
            assertEquals("<|im_start|>user\n2+3=?<|im_end|>\n<|im_start|>assistant\n", tok.decode(prompt));
            List<Completion> out = new Sampler(p).generate(List.of(prompt),
                    new SamplingParams(2, 0.8, 1.0, 0, 10, List.of(), 5, 4)).get(0);
            assertEquals(2, out.size());
            p.save(dir, "float32");
            try (Policy again = Policy.load(dir, CPU)) {
                assertArrayEquals(prompt, again.encodeUserPrompt("2+3=?"));
                assertTrue(again.eosIds().contains(3));
                assertEquals(0, again.padId());
                long[] ids = {2, 5, 6, 7};
                float[][] a = p.model().logitsOf(ids), b = again.model().logitsOf(ids);
                for (int t = 0; t < ids.length; t++) assertArrayEquals(a[t], b[t]);
            }
        }
    }
}
