package org.dnonative.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The heap-ordered BPE merge loop against the textbook one (merge the lowest-ranked, leftmost pair; repeat) on random merges and words. */
class BpeMergeTest {
    private static final long SEED = 20261201L;

    /** The reference: O(n^2), obviously HF's rule. */
    static List<String> naive(String word, Map<String, Integer> rank) {
        List<String> s = new ArrayList<>();
        for (char c : word.toCharArray()) s.add(String.valueOf(c));
        while (true) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < s.size(); i++) {
                Integer r = rank.get(s.get(i) + " " + s.get(i + 1));
                if (r != null && r < bestRank) { bestRank = r; best = i; }
            }
            if (best < 0) return s;
            s.set(best, s.get(best) + s.get(best + 1));
            s.remove(best + 1);
        }
    }

    @Test
    void heapMergesEqualTheTextbookLoop() throws Exception {
        Random rnd = new Random(SEED);
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        List<String> tokens = new ArrayList<>(List.of("a", "b", "c", "d"));
        Map<String, Integer> rank = new HashMap<>();
        var merges = model.putArray("merges");
        for (String t : tokens) vocab.put(t, vocab.size());
        while (rank.size() < 300) {                    // random merges, some of them sharing a result ("ab c" and "a bc")
            String l = tokens.get(rnd.nextInt(tokens.size())), r = tokens.get(rnd.nextInt(tokens.size()));
            if (rank.containsKey(l + " " + r) || (l + r).length() > 8) continue;
            rank.put(l + " " + r, rank.size());
            merges.add(l + " " + r);
            if (!vocab.has(l + r)) { vocab.put(l + r, vocab.size()); tokens.add(l + r); }
        }
        Tokenizer tok = Tokenizer.fromJson(json.writeValueAsString(root), "<random bpe>");
        for (int k = 0; k < 300; k++) {
            int n = k < 290 ? 1 + rnd.nextInt(40) : 2000 + rnd.nextInt(1000);
            StringBuilder w = new StringBuilder();
            for (int i = 0; i < n; i++) w.append("abcd".charAt(rnd.nextInt(4)));
            List<String> want = naive(w.toString(), rank);
            int[] wantIds = want.stream().mapToInt(t -> tok.tokenId(t)).toArray();
            int[] got = tok.encode(w.toString());
            assertArrayEquals(wantIds, got, "seed " + SEED + ", word " + k + " '" + (n < 60 ? w : w.substring(0, 60) + "...") + "': " + Arrays.toString(got));
            assertEquals(w.toString(), String.join("", want));
        }
    }

    @Test
    void emptyPrefixAndSuffixChangeNothing() {
        String json = """
            {"model":{"type":"BPE","continuing_subword_prefix":"","end_of_word_suffix":"","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}}
            """;
        assertArrayEquals(new int[]{2, 0}, Tokenizer.fromJson(json, "<qwen-like>").encode("aba"));
    }

    @Test
    void unsupportedModelPartsAreRefusedWithTheFileNamed() {
        String dropout = """
            {"model":{"type":"BPE","dropout":0.1,"vocab":{"a":0},"merges":[]}}
            """;
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(dropout, "x/tokenizer.json"));
        assertTrue(e.getMessage().startsWith("x/tokenizer.json: model BPE") && e.getMessage().contains("dropout"), e.getMessage());
        String unigram = """
            {"model":{"type":"Unigram","vocab":[["a",0.0]]}}
            """;
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(unigram, "y/tokenizer.json"));
        assertTrue(e.getMessage().contains("y/tokenizer.json") && e.getMessage().contains("Unigram"), e.getMessage());
    }
}
