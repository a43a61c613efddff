package org.dnonative.oracle.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.dnonative.oracle.Candidate;
import org.dnonative.oracle.JudgmentStatus;
import org.dnonative.oracle.ListwiseJudgment;
import org.dnonative.oracle.OracleKind;
import org.junit.jupiter.api.Test;

class CyclicStyleOracleTest {

    private static final double STRENGTH = 0.3;
    private static final String PROMPT = "12+7=";
    private static final String BARE = "19";
    private static final String SENTENCE = "the answer is 19";
    private static final String EQUATION = "12+7=19";
    private final CyclicStyleOracle oracle = new CyclicStyleOracle(STRENGTH);

    @Test
    void correctStylesFormACycle() {
        double sentenceOverBare = oracle.preference(PROMPT, SENTENCE, BARE);
        double equationOverSentence = oracle.preference(PROMPT, EQUATION, SENTENCE);
        double bareOverEquation = oracle.preference(PROMPT, BARE, EQUATION);
        assertEquals(0.5 + STRENGTH, sentenceOverBare, 1e-12);
        assertEquals(0.5 + STRENGTH, equationOverSentence, 1e-12);
        assertEquals(0.5 + STRENGTH, bareOverEquation, 1e-12);
        // The cycle closes, so no ordering of the styles (hence no scalar reward) agrees with it.
        assertTrue(sentenceOverBare > 0.5 && equationOverSentence > 0.5 && bareOverEquation > 0.5);
        assertEquals(0.5, oracle.preference(PROMPT, BARE, " 19 "), 1e-12);
        for (AnswerStyle s : AnswerStyle.values()) {
            assertEquals(s, CyclicStyleOracle.beatenBy(CyclicStyleOracle.counterOf(s)));
        }
    }

    @Test
    void incorrectAndMalformedAnswersLoseToAnyCorrectOneAndTieEachOther() {
        for (String correct : List.of(BARE, SENTENCE, EQUATION)) {
            for (String wrong : List.of("18", "the answer is 20", "13+7=19", "nineteen", "")) {
                assertEquals(1.0, oracle.preference(PROMPT, correct, wrong), 1e-12, correct + " vs " + wrong);
                assertEquals(0.0, oracle.preference(PROMPT, wrong, correct), 1e-12);
            }
        }
        assertEquals(0.5, oracle.preference(PROMPT, "18", "garbage"), 1e-12);
    }

    @Test
    void pureStyleIsExploitedByItsCounter() {
        List<String> allBare = Collections.nCopies(5, BARE);
        CyclicStyleOracle.Response br = oracle.bestResponse(PROMPT, allBare);
        assertEquals(Outcome.CORRECT_SENTENCE, br.outcome());
        assertEquals(SENTENCE, br.text());
        assertEquals(0.5 + STRENGTH, br.winRate(), 1e-12);
        assertEquals(STRENGTH, oracle.exploitability(PROMPT, allBare), 1e-12);
    }

    @Test
    void uniformOverCorrectStylesIsTheEquilibrium() {
        double[] uniform = {0, 1 / 3.0, 1 / 3.0, 1 / 3.0};
        assertEquals(0.0, oracle.game().exploitability(uniform), 1e-12);
        assertEquals(0.0, oracle.exploitability(PROMPT, List.of(BARE, SENTENCE, EQUATION)), 1e-12);
        // Any deviation from it is exploitable, including wrong answers mixed in.
        assertTrue(oracle.game().exploitability(new double[] {0, 0.4, 0.3, 0.3}) > 0.01);
        double withWrong = oracle.exploitability(PROMPT, List.of(BARE, SENTENCE, EQUATION, "18"));
        // Best response is any correct style: 3/4 * 1/2 + 1/4 * 1 = 0.625.
        assertEquals(0.125, withWrong, 1e-12);
    }

    @Test
    void allWrongPolicyLosesToAnyCorrectAnswer() {
        assertEquals(0.5, oracle.exploitability(PROMPT, List.of("18", "x", "13+7=20")), 1e-12);
    }

    @Test
    void handMadeMixHasHandComputedBestResponse() {
        // 1/2 BARE, 1/2 EQUATION. SENTENCE: .5*.8 + .5*.2 = .5; BARE: .5*.5 + .5*.8 = .65;
        // EQUATION: .5*.2 + .5*.5 = .35. Best response BARE, exploitability 0.15.
        CyclicStyleOracle.Response br = oracle.bestResponse(PROMPT, List.of(BARE, EQUATION));
        assertEquals(Outcome.CORRECT_BARE, br.outcome());
        assertEquals(0.65, br.winRate(), 1e-12);
        assertEquals(0.15, oracle.exploitability(PROMPT, List.of(EQUATION, BARE)), 1e-12);
    }

    @Test
    void perPromptAndPooledExploitabilityDiffer() {
        // Prompt-dependent pure styles: each prompt is exploitable, the pooled mix is not.
        Map<String, List<String>> samples = new LinkedHashMap<>();
        samples.put("1+1=", List.of("2", "2"));
        samples.put("2+2=", List.of("the answer is 4"));
        samples.put("3+3=", List.of("3+3=6", "3+3=6", "3+3=6"));
        assertEquals(STRENGTH, oracle.exploitability(samples), 1e-12);
        assertEquals(0.0, oracle.pooledExploitability(samples), 1e-12);
    }

    @Test
    void winRateBetweenPoliciesIsExactAndZeroSum() {
        Map<String, List<String>> a = Map.of(PROMPT, List.of(SENTENCE, "18"));
        Map<String, List<String>> b = Map.of(PROMPT, List.of(BARE));
        // SENTENCE beats BARE with .8; "18" loses: mean .4.
        assertEquals(0.4, oracle.winRate(a, b), 1e-12);
        assertEquals(1.0, oracle.winRate(a, b) + oracle.winRate(b, a), 1e-12);
    }

    @Test
    void listwiseScoresFollowTheDocumentedRule() {
        // Every style once and a wrong answer: each correct one has w = 2/3, so all tie at the top.
        ListwiseJudgment j = oracle.score(PROMPT, List.of(Candidate.sample(BARE), Candidate.sample(SENTENCE),
                Candidate.sample("18"), Candidate.gold(EQUATION)));
        assertTrue(j.isUsable());
        assertEquals(List.of(6.0, 6.0, 0.0, 6.0), j.scores());
        // SENTENCE beats BARE: w = .8 vs .2, so BARE scores 6 - 6 * .6 = 2.4, in whole points 2.
        ListwiseJudgment pair = oracle.score(PROMPT, List.of(Candidate.sample(SENTENCE), Candidate.sample(BARE)));
        assertEquals(6.0, pair.score(0), 1e-12);
        assertEquals(2.0, pair.score(1), 1e-12);
        // A nearly balanced list: w = .5 (BARE), .55 (SENTENCE), .45 (EQUATION): 6 - .3 rounds to 6, so
        // BARE ties SENTENCE at the top; 6 - .6 rounds to 5.
        ListwiseJudgment near = oracle.score(PROMPT, List.of(Candidate.sample(BARE), Candidate.sample(BARE), Candidate.sample(BARE),
                Candidate.sample(SENTENCE), Candidate.sample(SENTENCE), Candidate.sample(EQUATION), Candidate.sample(EQUATION)));
        assertEquals(List.of(6.0, 6.0, 6.0, 6.0, 6.0, 5.0, 5.0), near.scores());
        assertEquals(6.0, oracle.score(PROMPT, List.of(Candidate.sample(BARE))).score(0), 1e-12);
        // At full strength BARE would fall to 0; the floor keeps correct answers above wrong ones.
        ListwiseJudgment strong = new CyclicStyleOracle(0.5).score(PROMPT,
                List.of(Candidate.sample(SENTENCE), Candidate.sample(BARE), Candidate.sample(SENTENCE)));
        // w: SENTENCE (1 + .5) / 2 = .75, BARE 0: 6 - 4.5 = 1.5, floored to 2.
        assertEquals(List.of(6.0, 2.0, 6.0), strong.scores());
    }

    @Test
    void listwiseScoresGiveThePaperRuleItsPairs() {
        // A pure-BARE policy's 5 samples and a SENTENCE gold answer: w_gold = .8, w_bare = (4 * .5 + .2) / 5.
        List<Candidate> list = new ArrayList<>(Collections.nCopies(5, Candidate.sample(BARE)));
        list.add(Candidate.gold(SENTENCE));
        ListwiseJudgment j = oracle.score(PROMPT, list);
        assertEquals(6.0, j.score(5), 1e-12);
        double bare = Math.round(6 - 6 * (0.8 - 0.44));
        assertEquals(4.0, bare, 1e-12);
        for (int i = 0; i < 5; i++) {
            assertEquals(bare, j.score(i), 1e-12);
        }
        assertTrue(j.score(5) >= 5 && j.score(5) - bare >= 2, "gold is a positive, every sample a negative");
        // Mostly one correct style plus one wrong answer: correctness alone still makes a pair.
        ListwiseJudgment k = oracle.score(PROMPT, List.of(Candidate.sample(BARE), Candidate.sample(BARE),
                Candidate.sample(BARE), Candidate.sample(BARE), Candidate.sample("20")));
        assertEquals(List.of(6.0, 6.0, 6.0, 6.0, 0.0), k.scores());
        // All wrong: no positive.
        assertTrue(oracle.score(PROMPT, List.of(Candidate.sample("1"), Candidate.sample("x"))).scores()
                .stream().allMatch(s -> s == 0.0));
    }

    @Test
    void answersBothKindsAndMarksForeignPromptsUnusable() {
        assertTrue(oracle.answers(OracleKind.LISTWISE));
        assertTrue(oracle.answers(OracleKind.PAIRWISE));
        assertEquals(JudgmentStatus.UNUSABLE, oracle.score("what is love?", List.of(Candidate.sample("x"))).status());
        assertFalse(oracle.compare("what?", Candidate.sample("a"), Candidate.sample("b")).isUsable());
        assertEquals(2, oracle.stats().unusable());
        assertTrue(oracle.compare(PROMPT, Candidate.sample(BARE), Candidate.gold(SENTENCE)).probabilityFirstWins() < 0.5);
    }

    @Test
    void samplingFromTheEquilibriumApproachesZeroPooledExploitability() {
        java.util.Random random = new java.util.Random(1);
        ArithmeticTasks tasks = ArithmeticTasks.defaults();
        Map<String, List<String>> samples = new LinkedHashMap<>();
        for (String p : tasks.prompts(400, 3)) {
            List<String> s = new ArrayList<>();
            for (int k = 0; k < 5; k++) {
                s.add(ArithmeticTasks.goldResponse(p, AnswerStyle.values()[random.nextInt(3)]));
            }
            samples.put(p, s);
        }
        assertTrue(oracle.pooledExploitability(samples) < 0.03, "pooled " + oracle.pooledExploitability(samples));
        // Per prompt, 5 samples rarely split evenly: the estimate stays well above zero.
        assertTrue(oracle.exploitability(samples) > 0.05, "per prompt " + oracle.exploitability(samples));
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CyclicStyleOracle(0.7));
        assertTrue(e.getMessage().contains("cycleStrength"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> oracle.exploitability(PROMPT, List.of()));
        assertTrue(e.getMessage().contains("samples"), e.getMessage());
    }

    /** The transitive task: styles tie, correct beats wrong, exploitability is half the wrong share. */
    @Test
    void correctnessOnlyIsTransitive() {
        CyclicStyleOracle plain = CyclicStyleOracle.correctnessOnly();
        assertFalse(plain.cyclic());
        assertTrue(oracle.cyclic());
        assertEquals("arithmetic-correctness", plain.name());
        for (String a : List.of(BARE, SENTENCE, EQUATION)) {
            for (String b : List.of(BARE, SENTENCE, EQUATION)) {
                assertEquals(0.5, plain.preference(PROMPT, a, b), 1e-12, a + " vs " + b);
            }
            assertEquals(1.0, plain.preference(PROMPT, a, "18"), 1e-12);
        }
        // A pure style is an equilibrium here; a quarter wrong answers are exploitable by 1/8.
        assertEquals(0.0, plain.exploitability(PROMPT, Collections.nCopies(4, BARE)), 1e-12);
        assertEquals(0.125, plain.exploitability(PROMPT, List.of(BARE, SENTENCE, EQUATION, "18")), 1e-12);
        assertEquals(STRENGTH, oracle.exploitability(PROMPT, Collections.nCopies(4, BARE)), 1e-12);
        // Every correct answer scores 6, every wrong one 0: the pairs are correct over wrong only.
        assertEquals(List.of(6.0, 6.0, 0.0, 6.0), plain.score(PROMPT, List.of(Candidate.sample(BARE), Candidate.sample(SENTENCE),
                Candidate.sample("18"), Candidate.gold(EQUATION))).scores());
    }
}
