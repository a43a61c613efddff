package org.dnonative.dno;

import org.dnonative.dno.store.Pair;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PairRulesTest {
    static final PairRules.ListwiseRule PAPER = new PairRules.ListwiseRule(5, 2, 1, 4, 0.5, 0);

    static List<PairRules.Candidate> samples(String... texts) {
        List<PairRules.Candidate> c = new ArrayList<>();
        for (String t : texts) c.add(new PairRules.Candidate(t, false));
        return c;
    }

    static List<PairRules.Candidate> withGold(List<PairRules.Candidate> c, String gold) {
        List<PairRules.Candidate> out = new ArrayList<>(c);
        out.add(new PairRules.Candidate(gold, true));
        return out;
    }

    static List<int[]> pairs(List<PairRules.Choice> choices) {
        return choices.stream().map(c -> new int[]{c.winner(), c.loser()}).toList();
    }

    @Test
    void goldPositiveNeedsTwoPointsMarginSampleNeedsOne() {
        // gold scores 6, best sample 5: gold is the positive, margin 2 -> only candidates <= 4 are negatives
        var c = withGold(samples("a", "b", "c", "d", "e"), "g");
        var choices = PairRules.listwise(c, List.of(5.0, 4.0, 4.5, 2.0, 3.9, 6.0), PAPER);
        assertEquals(List.of(List.of(5, 1), List.of(5, 3), List.of(5, 4)), pairs(choices).stream().map(p -> List.of(p[0], p[1])).toList());
        // the best is a sample scoring 6: margin 1 -> everything <= 5 is a negative, the gold response included
        choices = PairRules.listwise(c, List.of(6.0, 4.0, 5.5, 5.0, 3.0, 5.0), PAPER);
        assertEquals(List.of(List.of(0, 1), List.of(0, 3), List.of(0, 4), List.of(0, 5)),
                pairs(choices).stream().map(p -> List.of(p[0], p[1])).toList());
        assertTrue(choices.stream().allMatch(ch -> ch.target() == null));
    }

    @Test
    void positiveMustReachTheThreshold() {
        var c = withGold(samples("a", "b", "c"), "g");
        assertTrue(PairRules.listwise(c, List.of(4.0, 1.0, 0.0, 4.5), PAPER).isEmpty());
        assertEquals(2, PairRules.listwise(c, List.of(4.0, 1.0, 0.0, 5.0), PAPER).size()); // gold 5 vs 1 and 0 (4 is only 1 lower)
    }

    @Test
    void tiesPreferThePolicysOwnSampleAndDuplicatesCountOnce() {
        var c = withGold(samples("x", "y", "y", "z"), "g");
        var choices = PairRules.listwise(c, List.of(6.0, 2.0, 2.0, 5.5, 6.0), PAPER);
        assertEquals(0, choices.get(0).winner(), "the sample, not the gold response, is the positive on a tie");
        assertEquals(List.of(1), choices.stream().map(PairRules.Choice::loser).toList(), "y once; z (5.5) and g (6) are within the margin of 1");
    }

    @Test
    void repetitiveSamplesAreAutomaticNegatives() {
        assertEquals(0.0, PairRules.repetition("the answer is 12", 4));
        assertTrue(PairRules.repetition("1111111111111111", 4) > 0.8);
        assertTrue(PairRules.repetition("go on and on and on and on and on and on and on", 2) > 0.5);
        var c = samples("the answer is 12", "121212121212121212", "12");
        // the looping sample scores high but is a negative anyway, and cannot be the positive
        var choices = PairRules.listwise(c, List.of(5.0, 6.0, 5.0), PAPER);
        assertEquals(List.of(List.of(0, 1)), pairs(choices).stream().map(p -> List.of(p[0], p[1])).toList());
    }

    @Test
    void maxPairsPerPrompt() {
        var c = samples("a", "b", "c", "d");
        var rule = new PairRules.ListwiseRule(5, 2, 1, 4, 0.5, 2);
        assertEquals(2, PairRules.listwise(c, List.of(6.0, 0.0, 0.0, 1.0), rule).size());
    }

    @Test
    void allTopPositivesPairsEveryDistinctTiedBestSampleWithEachNegative() {
        // "7" and "3+4=7" tie at 6 (the first "7" again is a duplicate); "?" and "8" are negatives;
        // the gold response ties too but is not a positive while the policy's own samples are.
        var c = withGold(samples("7", "?", "3+4=7", "7", "8", "the answer is 7"), "g");
        List<Double> scores = List.of(6.0, 0.0, 6.0, 6.0, 0.0, 5.0, 6.0);
        var rule = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0, true);
        assertEquals(List.of(List.of(0, 1), List.of(2, 1), List.of(0, 4), List.of(2, 4)),
                pairs(PairRules.listwise(c, scores, rule)).stream().map(p -> List.of(p[0], p[1])).toList());
        // without it, the first best sample is the one positive
        var paper = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0);
        assertEquals(List.of(List.of(0, 1), List.of(0, 4)),
                pairs(PairRules.listwise(c, scores, paper)).stream().map(p -> List.of(p[0], p[1])).toList());
        // the cap on pairs per prompt still holds
        assertEquals(3, PairRules.listwise(c, scores, new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 3, true)).size());
    }

    @Test
    void rarestTopPositiveBreaksATieAtTheTopByTheLeastSampledText() {
        // "7" (three times) and "3+4=7" (once) tie at 6: the rarer "3+4=7" is the positive; "?" is the negative
        var c = withGold(samples("7", "?", "7", "3+4=7", "7", "?"), "g");
        List<Double> scores = List.of(6.0, 0.0, 6.0, 6.0, 6.0, 0.0, 6.0);
        var rule = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0, false, true);
        assertEquals(List.of(List.of(3, 1)), pairs(PairRules.listwise(c, scores, rule)).stream().map(p -> List.of(p[0], p[1])).toList());
        // a strictly better sample is still the positive, however often it was sampled
        List<Double> better = List.of(6.0, 0.0, 6.0, 5.0, 6.0, 0.0, 6.0);
        assertEquals(0, PairRules.listwise(c, better, rule).get(0).winner());
    }

    @Test
    void topToleranceMakesNearTopSamplesPositivesAgainstTheirOwnNegatives() {
        // "7" scores 6, "3+4=7" 5, "the answer is 7" 4, "?" and "8" 0 (own-sample margin 2)
        var c = withGold(samples("7", "?", "3+4=7", "the answer is 7", "8", "7"), "g");
        List<Double> scores = List.of(6.0, 0.0, 5.0, 4.0, 0.0, 6.0, 6.0);
        var ties = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0, true, false, 0);
        // exact ties only: "7" is the one positive, against "?", "the answer is 7" (2 below) and "8"
        assertEquals(List.of(List.of(0, 1), List.of(0, 3), List.of(0, 4)),
                pairs(PairRules.listwise(c, scores, ties)).stream().map(p -> List.of(p[0], p[1])).toList());
        // tolerance 1: "3+4=7" (5) is a positive too, against the candidates 2 below it ("?" and "8"),
        // not against "the answer is 7" (only 1 below it); the second "7" is the same text, not another positive
        var near = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0, true, false, 1);
        assertEquals(List.of(List.of(0, 1), List.of(2, 1), List.of(0, 3), List.of(0, 4), List.of(2, 4)),
                pairs(PairRules.listwise(c, scores, near)).stream().map(p -> List.of(p[0], p[1])).toList());
        // tolerance 2 would reach "the answer is 7" (4), but a positive still scores at least positive_min_score (5)
        var wide = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0, true, false, 2);
        assertEquals(pairs(PairRules.listwise(c, scores, near)).stream().map(p -> List.of(p[0], p[1])).toList(),
                pairs(PairRules.listwise(c, scores, wide)).stream().map(p -> List.of(p[0], p[1])).toList());
    }

    @Test
    void modeBelowTopSetsThePolicysCommonestSampleBelowTheTopWhenAWholePointLower() {
        // "7" (three times) scores 5, "3+4=7" 6, "?" 0, the gold "g" 6: with margin 2 only "?" is a negative
        var c = withGold(samples("7", "?", "7", "3+4=7", "7"), "g");
        List<Double> scores = List.of(5.0, 0.0, 5.0, 6.0, 5.0, 6.0);
        var plain = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0, true, false, 0, false);
        assertEquals(List.of(List.of(3, 1)), pairs(PairRules.listwise(c, scores, plain)).stream().map(p -> List.of(p[0], p[1])).toList());
        // the commonest sample "7", a point below the top, is a negative too (once, its first occurrence)
        var mode = new PairRules.ListwiseRule(5, 2, 2, 4, 0.5, 0, true, false, 0, true);
        assertEquals(List.of(List.of(3, 1), List.of(3, 0)), pairs(PairRules.listwise(c, scores, mode)).stream().map(p -> List.of(p[0], p[1])).toList());
        // tied at the top, the commonest sample is a positive, not a negative
        List<Double> tied = List.of(6.0, 0.0, 6.0, 6.0, 6.0, 6.0);
        assertEquals(pairs(PairRules.listwise(c, tied, plain)).stream().map(p -> List.of(p[0], p[1])).toList(),
                pairs(PairRules.listwise(c, tied, mode)).stream().map(p -> List.of(p[0], p[1])).toList());
        // a commonest sample that is a negative already ("?") adds nothing
        var refusals = withGold(samples("?", "?", "7"), "g");
        List<Double> r = List.of(0.0, 0.0, 6.0, 6.0);
        assertEquals(List.of(List.of(2, 0)), pairs(PairRules.listwise(refusals, r, mode)).stream().map(p -> List.of(p[0], p[1])).toList());
    }

    @Test
    void pairwiseRuleUsesExpectedWinRatesAgainstThePolicysSamples() {
        // three samples and a gold response; P[i][j] = P(i beats j)
        var c = withGold(samples("a", "b", "c"), "g");
        double[][] p = {
                {0.5, 0.9, 0.6, 0.2},
                {0.1, 0.5, 0.3, 0.1},
                {0.4, 0.7, 0.5, 0.3},
                {0.8, 0.9, 0.7, 0.5}};
        double[] r = PairRules.expectedWinRates(c, p);
        assertEquals((0.9 + 0.6) / 2, r[0], 1e-12);      // a against b and c only: not itself, not the gold response
        assertEquals((0.1 + 0.3) / 2, r[1], 1e-12);
        assertEquals((0.8 + 0.9 + 0.7) / 3, r[3], 1e-12); // gold against all three samples
        PairRules.Choice hard = PairRules.pairwise(c, p, 0.1, false);
        assertEquals(3, hard.winner());
        assertEquals(1, hard.loser());
        assertNull(hard.target());
        PairRules.Choice soft = PairRules.pairwise(c, p, 0.1, true);
        assertEquals(1 / (1 + Math.exp(-(r[3] - r[1]))), soft.target(), 1e-12, "Algorithm 1's soft target sigma(r_t(y_w) - r_t(y_l))");
        assertNull(PairRules.pairwise(c, p, 0.7, false), "no pair when the margin is not exceeded");
    }

    @Test
    void replayTakesThirtyThenFifteenPercentDeterministically() {
        List<Pair> t1 = new ArrayList<>(), t2 = new ArrayList<>();
        for (int i = 0; i < 50; i++) t1.add(new Pair("1:p" + i + ":s0>s1", "p" + i, "a", new int[]{1}, "b", new int[]{2}, null, "sample>sample", 1));
        for (int i = 0; i < 50; i++) t2.add(new Pair("2:q" + i + ":s0>s1", "q" + i, "a", new int[]{1}, "b", new int[]{2}, null, "sample>sample", 2));
        // iteration 3 with 100 new pairs: 30 from iteration 2, 15 from iteration 1
        List<Pair> r = Replay.select(List.of(t2, t1), 100, 0.3, 0.5, 42);
        assertEquals(30, r.stream().filter(x -> x.iteration() == 2).count());
        assertEquals(15, r.stream().filter(x -> x.iteration() == 1).count());
        assertEquals(45, r.stream().map(Pair::prompt).distinct().count(), "without replacement");
        assertEquals(r, Replay.select(List.of(t2, t1), 100, 0.3, 0.5, 42));
        // capped by what there is
        assertEquals(50 + 50, Replay.select(List.of(t2, t1), 1000, 0.3, 0.5, 1).size());
        assertTrue(Replay.select(List.of(t2, t1), 100, 0.0, 0.5, 1).isEmpty());
    }

    @Test
    void seedsDifferByIterationAndStage() {
        assertNotEquals(Seeds.derive(1, 1, Seeds.Stage.SAMPLE), Seeds.derive(1, 2, Seeds.Stage.SAMPLE));
        assertNotEquals(Seeds.derive(1, 1, Seeds.Stage.SAMPLE), Seeds.derive(1, 1, Seeds.Stage.TRAIN));
        assertNotEquals(Seeds.derive(1, 1, Seeds.Stage.SAMPLE), Seeds.derive(2, 1, Seeds.Stage.SAMPLE));
        assertEquals(Seeds.derive(7, 3, Seeds.Stage.EVAL), Seeds.derive(7, 3, Seeds.Stage.EVAL));
    }
}
