package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of a tokenizer.json. The model's vocab and merges (hundreds of thousands of entries)
 * are streamed straight into a map and a list; only the small sections become JSON trees, which
 * keeps loading close to HF's time.
 */
final class TokenizerFile {
    // vocab tokens are field names: interning or canonicalising 100k+ of them costs more than the parse
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).disable(JsonFactory.Feature.INTERN_FIELD_NAMES).build());

    final ObjectNode root = JSON.createObjectNode();      // every section but model.vocab / model.merges
    final ObjectNode model = JSON.createObjectNode();     // the model's other fields
    Map<String, Integer> vocab;
    final List<String[]> merges = new ArrayList<>();

    static TokenizerFile parse(byte[] json, String source) {
        TokenizerFile f = new TokenizerFile();
        try (JsonParser p = JSON.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new TokenizerException(source + ": not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                p.nextToken();
                if (name.equals("model") && p.currentToken() == JsonToken.START_OBJECT) f.readModel(p, source);
                else f.root.set(name, p.readValueAsTree());
            }
            if (p.nextToken() != null) throw new TokenizerException(source + ": text after the JSON object");
        } catch (IOException e) {
            throw new TokenizerException(source + ": not valid JSON: " + e.getMessage(), e);
        }
        String type = f.model.path("type").asText("");
        if (!type.isEmpty() && !type.equals("BPE") && !type.equals("WordLevel"))
            throw new TokenizerException(source + ": model type '" + type + "' is not supported (BPE, WordLevel)");
        if (f.vocab == null) throw new TokenizerException(source + ": model has no vocab object");
        return f;
    }

    private void readModel(JsonParser p, String source) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.getCurrentName();
            JsonToken t = p.nextToken();
            if (name.equals("vocab") && t == JsonToken.START_OBJECT) {
                vocab = new HashMap<>(1 << 16);
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String token = p.getCurrentName();
                    if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) throw new TokenizerException(source + ": vocab entry '" + token + "' is not an id");
                    vocab.put(token, p.getIntValue());
                }
            } else if (name.equals("merges") && t == JsonToken.START_ARRAY) {
                while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                    if (t == JsonToken.VALUE_STRING) {
                        String s = p.getText();
                        int sp = s.indexOf(' ');                   // the legacy "a b" form: HF splits on the one space
                        if (sp < 0 || s.indexOf(' ', sp + 1) >= 0) throw new TokenizerException(source + ": merge '" + s + "' is not two tokens");
                        merges.add(new String[]{s.substring(0, sp), s.substring(sp + 1)});
                    } else if (t == JsonToken.START_ARRAY) {
                        String a = p.nextTextValue(), b = p.nextTextValue();
                        if (a == null || b == null || p.nextToken() != JsonToken.END_ARRAY)
                            throw new TokenizerException(source + ": a merge is not a pair of strings");
                        merges.add(new String[]{a, b});
                    } else throw new TokenizerException(source + ": a merge is neither \"a b\" nor [a, b]");
                }
            } else model.set(name, p.readValueAsTree());
        }
    }

    JsonNode section(String name) { return root.get(name); }

}
