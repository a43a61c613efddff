package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.dnonative.model.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TokenizerParityTest {
    static final Tokenizer TOK = Tokenizer.load(Fixture.TOKENIZER.resolve("tokenizer.json"));

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    @Test
    void encodeAndDecodeMatchTokenizers() {
        for (JsonNode c : Fixture.reference().get("tokenizer").get("encode")) {
            String text = c.get("text").asText();
            int[] ids = TOK.encode(text);
            assertArrayEquals(ints(c.get("ids")), ids, "ids of " + text + ": " + Arrays.toString(ids));
            assertEquals(c.get("decoded").asText(), TOK.decode(ids), "decoded text of " + text);
        }
    }

    @Test
    void chatTemplateRendersByteExactAndTokenizes() {
        ChatTemplate template = ChatTemplate.load(Fixture.TOKENIZER);
        assertNotNull(template);
        for (JsonNode c : Fixture.reference().get("tokenizer").get("chat")) {
            List<ChatTemplate.Message> msgs = new ArrayList<>();
            for (JsonNode m : c.get("messages")) msgs.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
            String rendered = template.render(msgs, true);
            assertEquals(c.get("rendered").asText(), rendered);
            assertArrayEquals(ints(c.get("ids")), TOK.encode(rendered));
        }
    }

    @Test
    void specialTokensAndSkipping() {
        assertEquals(2, TOK.tokenId("<|im_end|>"));
        assertTrue(TOK.isSpecial(0));
        int[] ids = TOK.encode("hi<|im_end|>");
        assertEquals(2, ids[ids.length - 1]);
        assertEquals("hi", TOK.decode(ids, true));
        assertEquals("hi<|im_end|>", TOK.decode(ids, false));
    }

    @Test
    void sentencePieceStyleBpeWithByteFallback(@TempDir Path dir) throws Exception {
        // A Llama-2-style tokenizer.json: Prepend/Replace normalizer, BPE with byte fallback, Metaspace-style decoders.
        String json = """
            {"version":"1.0","added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}],
             "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
             "pre_tokenizer":null,
             "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
               "pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
             "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
             "model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,
               "vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0xC3>":3,"<0xA9>":4,"▁":5,"h":6,"i":7,"hi":8,"▁hi":9,"c":10,"a":11,"f":12},
               "merges":["h i","▁ hi"]}}
            """;
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        Tokenizer t = Tokenizer.load(f);
        int[] ids = t.encode("hi café", true);
        assertArrayEquals(new int[]{1, 9, 5, 10, 11, 12, 3, 4}, ids, Arrays.toString(ids));
        assertEquals("hi café", t.decode(ids, true));
    }

    @Test
    void charLevelWordLevelTokenizer(@TempDir Path dir) throws Exception {
        String json = """
            {"version":"1.0","added_tokens":[{"id":0,"content":"<eos>","special":true}],
             "normalizer":null,
             "pre_tokenizer":{"type":"Split","pattern":{"Regex":"."},"behavior":"Isolated","invert":false},
             "post_processor":null,"decoder":{"type":"Fuse"},
             "model":{"type":"WordLevel","unk_token":"?","vocab":{"<eos>":0,"?":1,"a":2,"b":3," ":4}}}
            """;
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        Tokenizer t = Tokenizer.load(f);
        assertArrayEquals(new int[]{2, 4, 3, 1, 0}, t.encode("a bz<eos>"));
        assertEquals("a b?", t.decode(new int[]{2, 4, 3, 1, 0}, true));
    }
}
