package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of a tokenizer.json. The model's vocab and merges (hundreds of thousands of entries)
 * are read straight into a map and a list; only the small sections become JSON trees.
 */
final class TokenizerFile {
    final ObjectNode root = JsonNodeFactory.instance.objectNode();      // every section but model.vocab / model.merges
    final ObjectNode model = JsonNodeFactory.instance.objectNode();     // the model's other fields
    Map<String, Integer> vocab;
    /** The vocab's tokens by id (ids the vocab skips are null) and its largest id: built while reading, to spare a cold JVM two passes over the map. */
    String[] byId = new String[0];
    int maxId = -1;
    final List<String[]> merges = new ArrayList<>();

    static TokenizerFile parse(byte[] json, String source) {
        TokenizerFile f = new TokenizerFile();
        JsonScanner p = new JsonScanner(json, source);
        if (p.peek() != '{') throw p.error("not a JSON object");
        if (!p.open('{', '}', "'{'")) {
            do {
                String name = p.string();
                p.expect(':', "':'");
                if (name.equals("model") && p.peek() == '{') f.readModel(p, source);
                else f.root.set(name, p.value());
            } while (p.more('}'));
        }
        p.end();
        String type = f.model.path("type").asText("");
        if (!type.isEmpty() && !type.equals("BPE") && !type.equals("WordLevel"))
            throw new TokenizerException(source + ": model type '" + type + "' is not supported (BPE, WordLevel)");
        if (f.vocab == null) throw new TokenizerException(source + ": model has no vocab object");
        return f;
    }

    private void readModel(JsonScanner p, String source) {
        if (p.open('{', '}', "'{'")) return;
        do {
            String name = p.string();
            p.expect(':', "':'");
            if (name.equals("vocab") && p.peek() == '{') {
                vocab = new HashMap<>(1 << 16);
                if (!p.open('{', '}', "'{'")) {
                    do {
                        String token = p.string();
                        p.expect(':', "':'");
                        int c = p.peek();
                        if (c != '-' && (c < '0' || c > '9')) throw p.error("vocab entry '" + token + "' is not an id");
                        int id = p.integer();
                        Integer before = vocab.put(token, id);
                        // a repeated token keeps its last id, as HF's map does; its earlier id no longer decodes to it
                        if (before != null && before >= 0 && before != id && token.equals(byId[before])) byId[before] = null;
                        if (id >= 0) {
                            if (id >= byId.length) byId = java.util.Arrays.copyOf(byId, Math.max(id + 1, byId.length * 2 + 1024));
                            byId[id] = token;
                            maxId = Math.max(maxId, id);
                        }
                    } while (p.more('}'));
                }
            } else if (name.equals("merges") && p.peek() == '[') {
                if (!p.open('[', ']', "'['")) {
                    do {
                        int c = p.peek();
                        if (c == '"') {
                            merges.add(p.spacePair());                  // the legacy "a b" form: HF splits on the one space
                        } else if (c == '[') {
                            p.expect('[', "'['");
                            if (p.peek() != '"') throw new TokenizerException(source + ": a merge is not a pair of strings");
                            String a = p.string();
                            if (!p.more(']') || p.peek() != '"') throw new TokenizerException(source + ": a merge is not a pair of strings");
                            String b = p.string();
                            if (p.more(']')) throw new TokenizerException(source + ": a merge is not a pair of strings");
                            merges.add(new String[]{a, b});
                        } else throw new TokenizerException(source + ": a merge is neither \"a b\" nor [a, b]");
                    } while (p.more(']'));
                }
            } else model.set(name, p.value());
        } while (p.more('}'));
    }

    JsonNode section(String name) { return root.get(name); }
}
