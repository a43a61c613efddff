package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small tokenizers built with HF tokenizers (src/test/fixtures-gen/synthetic_tokenizers.py) for what
 * the real files do not use: continuing_subword_prefix, end_of_word_suffix, Metaspace, single_word /
 * lstrip / rstrip / normalized added tokens, Lowercase, NFKC, Strip, Replace, Digits, WhitespaceSplit,
 * GPT-2 ByteLevel, Bert and Roberta post-processors. Each must give HF's ids and decodes.
 */
class SyntheticTokenizersTest {
    @TestFactory
    Stream<DynamicTest> syntheticTokenizersGiveHfIdsAndDecodes() throws Exception {
        JsonNode fx = new ObjectMapper().readTree(Files.readString(RealTokenizersTest.DIR.resolve("synthetic.json")));
        List<DynamicTest> tests = new ArrayList<>();
        fx.get("tokenizers").fields().forEachRemaining(e -> tests.add(DynamicTest.dynamicTest(e.getKey(), () -> {
            Tokenizer tok = Tokenizer.fromJson(e.getValue().get("json").asText(), e.getKey());
            List<String> bad = new ArrayList<>();
            for (JsonNode c : e.getValue().get("cases")) {
                String text = c.get("text").asText();
                int[] want = RealTokenizersTest.ints(c.get("ids")), got = tok.encode(text);
                if (!Arrays.equals(want, got)) bad.add("ids of '" + RealTokenizersTest.show(text) + "': want " + Arrays.toString(want) + " got " + Arrays.toString(got));
                int[] wantSpecial = RealTokenizersTest.ints(c.get("ids_special")), gotSpecial = tok.encode(text, true);
                if (!Arrays.equals(wantSpecial, gotSpecial)) bad.add("ids with special tokens of '" + RealTokenizersTest.show(text) + "': want " + Arrays.toString(wantSpecial) + " got " + Arrays.toString(gotSpecial));
                String dec = tok.decode(want), decSkip = tok.decode(want, true);
                if (!c.get("decoded").asText().equals(dec)) bad.add("decode of '" + RealTokenizersTest.show(text) + "': want '" + RealTokenizersTest.show(c.get("decoded").asText()) + "' got '" + RealTokenizersTest.show(dec) + "'");
                if (!c.get("decoded_skip").asText().equals(decSkip)) bad.add("decode (skip) of '" + RealTokenizersTest.show(text) + "': want '" + RealTokenizersTest.show(c.get("decoded_skip").asText()) + "' got '" + RealTokenizersTest.show(decSkip) + "'");
            }
            assertTrue(bad.isEmpty(), e.getKey() + ": " + bad.size() + " mismatches:\n" + String.join("\n", bad.subList(0, Math.min(12, bad.size()))));
        })));
        return tests.stream();
    }
}
