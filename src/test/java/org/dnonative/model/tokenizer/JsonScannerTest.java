package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The tokenizer.json reader against Jackson (an independent JSON implementation) and on malformed files. */
class JsonScannerTest {
    private static final ObjectMapper PLAIN = new ObjectMapper();
    private static final ObjectMapper ASCII = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
    private static final JsonNodeFactory N = JsonNodeFactory.instance;

    @Test
    void readsWhatJacksonWritesAndReads() throws Exception {
        for (long seed = 0; seed < 300; seed++) {
            Random r = new Random(seed);
            JsonNode tree = randomValue(r, 0);
            for (ObjectMapper writer : new ObjectMapper[]{PLAIN, ASCII}) {
                String text = r.nextBoolean() ? writer.writeValueAsString(tree) : writer.writerWithDefaultPrettyPrinter().writeValueAsString(tree);
                JsonNode jackson = PLAIN.readTree(text);
                JsonScanner s = new JsonScanner(text.getBytes(StandardCharsets.UTF_8), "t.json");
                JsonNode ours = jackson(s.value());
                s.end();
                assertEquals(jackson, ours, "seed " + seed + ": " + text);
            }
        }
    }

    @Test
    void vocabAndMergesAreReadWithoutATree() {
        String json = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"\\u00e9\":3,\"\\\"\":4,\"x\":5,\"x\":6},"
                + "\"merges\":[\"a b\",[\"a\",\"b\"],\"\\u00e9 \\\"\",\"é x\"]},\"added_tokens\":[]}";
        TokenizerFile f = TokenizerFile.parse(json.getBytes(StandardCharsets.UTF_8), "v.json");
        assertEquals(3, f.vocab.get("é"));
        assertEquals(4, f.vocab.get("\""));
        assertEquals(6, f.vocab.get("x"), "a repeated token keeps its last id, as HF's map does");
        assertNull(f.vocab.token(5), "and its earlier id decodes to nothing");
        assertEquals("x", f.vocab.token(6));
        assertEquals("\"", f.vocab.token(4), "a token written with an escape");
        assertEquals("é", f.vocab.token(3));
        assertEquals(6, f.vocab.maxId());
        assertEquals(4, f.mergeCount);
        // (left, right, left+right) ids; -1: not in the vocab
        assertArrayEquals(new int[]{0, 1, 2, 0, 1, 2, 3, 4, -1, 3, 6, -1}, java.util.Arrays.copyOf(f.merges, 12),
                "\"a b\" and [a, b]; escapes take the general path, non-ASCII the fast one");
        assertNull(f.badMerge);
        assertEquals("BPE", f.model.get("type").asText());

        // merges before the vocab, some in each form, one with a token outside it; "éx" and "日本" resolved from the bytes
        String later = "{\"model\":{\"merges\":[\"a b\",[\"é\",\"x\"],\"\\u00e9 x\",\"q b\"],\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"é\":3,\"x\":4,\"éx\":5,"
                + "\"日\":6,\"本\":7,\"日本\":8,\"😀\":9,\"😀日\":10},\"merges\":[[\"日\",\"本\"],\"😀 日\"]}}";
        TokenizerFile g = TokenizerFile.parse(later.getBytes(StandardCharsets.UTF_8), "w.json");
        assertEquals(6, g.mergeCount);
        assertArrayEquals(new int[]{0, 1, 2, 3, 4, 5, 3, 4, 5, -1, 1, -1, 6, 7, 8, 9, 6, 10}, java.util.Arrays.copyOf(g.merges, 18));
        assertEquals("q b", g.badMerge);
        assertEquals(10, g.vocab.get("😀日"));
        assertEquals(-1, g.vocab.get("日日"));
    }

    @Test
    void malformedFilesNameTheLineAndColumn() {
        String[][] cases = {
                {"{\"a\": 1,\n \"b\": }", "line 2, column 7"},
                {"{\"a\": 1} x", "text after the JSON value"},
                {"{\"a\": \"\\ud800\"}", "lone leading surrogate"},
                {"{\"a\": \"\\udc00x\"}", "lone trailing surrogate"},
                {"{\"a\": \"\\q\"}", "invalid escape"},
                {"{\"a\": \"tab\there\"}", "control character"},
                {"{\"a\": 01}", "invalid number"},
                {"{\"a\": 1e999}", "number out of range"},
                {"{\"a\": tru}", "invalid literal"},
                {"{\"a\": NaN}", "unexpected character 'N'"},
                {"{\"a\": [1, 2}", "expected ',' or ']'"},
                {"{\"a\": \"open", "unterminated string"},
                {"{\"model\": {\"vocab\": {\"a\": 1.5}}}", "expected an integer"},
                {"{\"model\": {\"vocab\": {\"a\": 99999999999}}}", "integer out of range"},
                {"{\"model\": {\"vocab\": {\"a\": \"1\"}}}", "vocab entry 'a' is not an id"},
                {"{\"model\": {\"vocab\": {\"a\": -1}}}", "vocab entry 'a' is not an id"},
                {"{\"model\": {\"vocab\": {}, \"merges\": [[\"a\"]]}}", "a merge is not a pair of strings"},
                {"{\"model\": {\"vocab\": {}, \"merges\": [\"ab\"]}}", "merge 'ab' is not two tokens"},
                {"{\"model\": {\"vocab\": {}, \"merges\": [\"a b c\"]}}", "merge 'a b c' is not two tokens"},
                {"{\"model\": {\"vocab\": {}, \"merges\": [\"a\\u0020b c\"]}}", "is not two tokens"},
                {"[1]", "not a JSON object"},
                {"", "not a JSON object"},
                {"{\"a\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}", "nesting deeper than 1000"},
        };
        for (String[] c : cases) {
            TokenizerException e = assertThrows(TokenizerException.class,
                    () -> TokenizerFile.parse(c[0].getBytes(StandardCharsets.UTF_8), "m/tokenizer.json"), c[0]);
            assertTrue(e.getMessage().startsWith("m/tokenizer.json: "), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
        byte[][] badUtf8 = {{'{', '"', (byte) 0xC0, (byte) 0x80, '"', ':', '1', '}'},          // overlong
                {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '1', '}'},            // an encoded surrogate
                {'{', '"', (byte) 0xE2, (byte) 0x82, '"', ':', '1', '}'},                         // truncated
                {'{', '"', (byte) 0xFF, '"', ':', '1', '}'}};
        for (byte[] b : badUtf8) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> TokenizerFile.parse(b, "u.json"));
            assertTrue(e.getMessage().contains("UTF-8") && e.getMessage().contains("line 1, column 3"), e.getMessage());
        }
    }

    /** Our tree as Jackson's, to compare (numbers: int, long or double, as Jackson reads them). */
    private static JsonNode jackson(Json v) {
        if (v.isObject()) {
            ObjectNode o = N.objectNode();
            for (java.util.Map.Entry<String, Json> e : v.fields()) o.set(e.getKey(), jackson(e.getValue()));
            return o;
        }
        if (v.isArray()) {
            ArrayNode a = N.arrayNode();
            for (Json x : v) a.add(jackson(x));
            return a;
        }
        if (v.isTextual()) return N.textNode(v.asText());
        if (v.isBoolean()) return N.booleanNode(v.asBoolean(false));
        if (v.isNull()) return N.nullNode();
        if (v.isIntegral()) return v.asLong() == (int) v.asLong() ? N.numberNode((int) v.asLong()) : N.numberNode(v.asLong());
        assertTrue(v.isNumber());
        return N.numberNode(v.asDouble());
    }

    private static JsonNode randomValue(Random r, int depth) {
        int kind = depth >= 4 ? 2 + r.nextInt(5) : r.nextInt(7);
        switch (kind) {
            case 0: {
                ObjectNode o = N.objectNode();
                for (int k = r.nextInt(5); k > 0; k--) o.set(randomString(r), randomValue(r, depth + 1));
                return o;
            }
            case 1: {
                ArrayNode a = N.arrayNode();
                for (int k = r.nextInt(5); k > 0; k--) a.add(randomValue(r, depth + 1));
                return a;
            }
            case 2: return N.textNode(randomString(r));
            case 3: return r.nextBoolean() ? N.numberNode(r.nextInt() >> r.nextInt(31)) : N.numberNode(r.nextLong());
            case 4: return N.numberNode((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(40) - 20));
            case 5: return N.booleanNode(r.nextBoolean());
            default: return N.nullNode();
        }
    }

    private static String randomString(Random r) {
        StringBuilder sb = new StringBuilder();
        String pool = "aZ09 \"\\/\b\f\n\r\t\u0001\u001f\u007fé日Ġ▁";
        for (int k = r.nextInt(12); k > 0; k--) {
            int pick = r.nextInt(10);
            if (pick < 7) sb.append(pool.charAt(r.nextInt(pool.length())));
            else if (pick < 9) sb.appendCodePoint(0x10000 + r.nextInt(0x10FFFF - 0x10000));   // a surrogate pair
            else sb.append((char) (0x80 + r.nextInt(0xD800 - 0x80)));
        }
        return sb.toString();
    }
}
