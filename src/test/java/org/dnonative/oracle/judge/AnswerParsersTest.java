package org.dnonative.oracle.judge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class AnswerParsersTest {

    private static final List<String> AB = List.of("A", "B");

    @Test
    void listwiseAcceptsFencesProseAndAScoresWrapper() throws Exception {
        assertArrayEquals(new double[] {5, 2}, ListwiseAnswerParser.parse("{\"A\": 5, \"B\": 2}", AB, 6));
        assertArrayEquals(new double[] {6, 0},
                ListwiseAnswerParser.parse("Sure.\n```json\n{\"scores\": {\"B\": 0, \"A\": 6}}\n```", AB, 6));
        assertArrayEquals(new double[] {3, 4}, ListwiseAnswerParser.parse("{\"A\": \"3\", \"B\": 4.0}", AB, 6));
    }

    @Test
    void listwiseRejectsWhatCannotBeTrusted() {
        for (String bad : List.of("A: 5, B: 2", "{\"A\": 5}", "{\"A\": 5, \"B\": 7}", "{\"A\": 5, \"B\": -1}",
                "{\"A\": 5, \"B\": 2, \"C\": 1}", "{\"A\": \"good\", \"B\": 2}", "{\"A\": 5, \"B\": 2",
                "{\"A\": null, \"B\": 2}")) {
            assertThrows(MalformedAnswerException.class, () -> ListwiseAnswerParser.parse(bad, AB, 6), bad);
        }
    }

    @Test
    void hardVerdicts() throws Exception {
        assertEquals(1.0, PairwiseVerdictParser.parse("A", null).probabilityAWins());
        assertEquals(0.0, PairwiseVerdictParser.parse(" **B**", null).probabilityAWins());
        assertEquals(0.0, PairwiseVerdictParser.parse("Response B is better.", null).probabilityAWins());
        assertEquals(0.5, PairwiseVerdictParser.parse("tie", null).probabilityAWins());
        assertFalse(PairwiseVerdictParser.parse("A", null).soft());
        for (String bad : List.of("", "Both", "AB", "I prefer the second one")) {
            assertThrows(MalformedAnswerException.class, () -> PairwiseVerdictParser.parse(bad, null), bad);
        }
    }

    @Test
    void softVerdictsFromTopLogprobs() throws Exception {
        JsonNode tokens = new ObjectMapper().readTree("""
                [{"token": "**", "logprob": -0.1, "top_logprobs": []},
                 {"token": " A", "logprob": -0.5,
                  "top_logprobs": [{"token": " A", "logprob": %s}, {"token": "B", "logprob": %s},
                                   {"token": "TIE", "logprob": %s}, {"token": "Neither", "logprob": -1.0}]}]
                """.formatted(Math.log(0.5), Math.log(0.2), Math.log(0.2)));
        PairwiseVerdictParser.Verdict v = PairwiseVerdictParser.parse("** A**", tokens);
        assertTrue(v.soft());
        assertEquals((0.5 + 0.1) / 0.9, v.probabilityAWins(), 1e-12);
        JsonNode noAlternatives = new ObjectMapper().readTree("[{\"token\": \"B\", \"logprob\": -0.1}]");
        PairwiseVerdictParser.Verdict hard = PairwiseVerdictParser.parse("B", noAlternatives);
        assertFalse(hard.soft());
        assertEquals(0.0, hard.probabilityAWins());
    }
}
