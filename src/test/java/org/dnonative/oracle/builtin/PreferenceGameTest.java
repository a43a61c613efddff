package org.dnonative.oracle.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PreferenceGameTest {

    // Rock, paper, scissors with P(win) = 0.8: paper ≻ rock, scissors ≻ paper, rock ≻ scissors.
    private static final PreferenceGame RPS = new PreferenceGame(new double[][] {
            {0.5, 0.2, 0.8},
            {0.8, 0.5, 0.2},
            {0.2, 0.8, 0.5}});

    @Test
    void bestResponseToPureRockIsPaper() {
        PreferenceGame.BestResponse br = RPS.bestResponse(new double[] {1, 0, 0});
        assertEquals(1, br.outcome());
        assertEquals(0.8, br.winRate(), 1e-12);
        assertEquals(0.3, RPS.exploitability(new double[] {1, 0, 0}), 1e-12);
    }

    @Test
    void bestResponseToAHandMadeMixIsComputedByHand() {
        // policy: rock 0.5, paper 0.5. rock: .5*.5+.5*.2=.35; paper: .5*.8+.5*.5=.65; scissors: .5*.2+.5*.8=.5
        double[] policy = {0.5, 0.5, 0};
        assertEquals(0.35, RPS.winRateOf(0, policy), 1e-12);
        assertEquals(0.65, RPS.winRateOf(1, policy), 1e-12);
        assertEquals(0.50, RPS.winRateOf(2, policy), 1e-12);
        assertEquals(1, RPS.bestResponse(policy).outcome());
        assertEquals(0.15, RPS.exploitability(policy), 1e-12);
    }

    @Test
    void uniformIsTheEquilibriumAndWinRateIsZeroSum() {
        double[] uniform = {1 / 3.0, 1 / 3.0, 1 / 3.0};
        assertEquals(0.0, RPS.exploitability(uniform), 1e-12);
        double[] a = {0.6, 0.3, 0.1};
        double[] b = {0.2, 0.2, 0.6};
        assertEquals(1.0, RPS.winRate(a, b) + RPS.winRate(b, a), 1e-12);
        assertEquals(0.5, RPS.winRate(a, a), 1e-12);
    }

    @Test
    void rejectsInconsistentMatricesAndDistributions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PreferenceGame(new double[][] {{0.5, 0.7}, {0.7, 0.5}}));
        assertTrue(e.getMessage().contains("must be 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RPS.exploitability(new double[] {0.5, 0.2, 0.2}));
        assertTrue(e.getMessage().contains("policy"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RPS.winRate(new double[] {1, 0, 0}, new double[] {1, 0}));
        assertTrue(e.getMessage().contains("opponent"), e.getMessage());
    }
}
