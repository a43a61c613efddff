package org.dnonative.oracle.builtin;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.dnonative.oracle.Candidate;
import org.dnonative.oracle.ListwiseJudgment;
import org.dnonative.oracle.OracleKind;
import org.dnonative.oracle.OracleStats;
import org.dnonative.oracle.PairwiseJudgment;
import org.dnonative.oracle.PreferenceOracle;

/**
 * The built-in general-preference oracle for {@link ArithmeticTasks}: a preference that no single
 * reward can represent, so that DNO's Nash target differs from a reward maximiser's.
 *
 * <ul>
 *   <li>A correct response beats a wrong one (malformed or incorrect) with probability 1; two wrong
 *       responses tie.</li>
 *   <li>Among correct responses the styles form a rock-paper-scissors cycle: SENTENCE ≻ BARE,
 *       EQUATION ≻ SENTENCE, BARE ≻ EQUATION, each with probability 1/2 + cycleStrength; the same
 *       style ties.</li>
 * </ul>
 * The game's Nash equilibrium is therefore mixed: always correct, each style with probability 1/3.
 * Any pure style is beaten by its counter, exploitability = cycleStrength.
 *
 * <p>List-wise rule (whole points 0..6, as the paper's judge scores on its additive 6-point rubric;
 * made for the paper's pair rule: positive at least 5, negatives at least 2 points lower, 1 when the
 * positive is the policy's own sample). Let w be a candidate's mean P(candidate ≻ other) over the
 * other candidates of the list (1/2 for a list of one): with the policy's samples in the list it
 * estimates DNO's r_t. Then
 * <pre>
 *   wrong answer:   0
 *   correct answer: max(2, round(6 − 6·(w_best − w))),  w_best = the highest w among correct answers
 * </pre>
 * So whenever a list has a correct answer its best one scores 6 and every wrong one is a negative;
 * a correct answer becomes a negative when its win-rate in the list is at least 1/4 below the best
 * (1/12 when the best is a policy sample and the own-sample margin is 1); all-wrong lists give no
 * positive. The floor keeps every correct answer at least 2 points above every wrong one. Whole
 * points matter for the dynamics: correct answers whose win-rates in the list differ by less than
 * 1/12 tie at the top, and the pair rule then takes the earliest policy sample among them, whose
 * style is a draw from the policy's own mix; only a list whose style mix is off balance by more than
 * that makes the counter style the one positive. (With continuous scores the counter of the list's
 * majority style is always the positive, and the policy's style mix swings from style to style.)
 *
 * <p>{@link #correctnessOnly()} is the same task with a plain, transitive preference (correct ≻ wrong,
 * every style alike): a reward in disguise, whose equilibria are all the always-correct policies, so
 * that DNO can be seen against a transitive oracle too ({@code train --task correctness}).
 *
 * <p>Prompts outside the task family give UNUSABLE judgments; the exact-game methods throw for them.
 */
public final class CyclicStyleOracle implements PreferenceOracle {

    private final double cycleStrength;
    private final PreferenceGame game;
    private final AtomicLong judgments = new AtomicLong();
    private final AtomicLong unusable = new AtomicLong();

    /** @param cycleStrength how strongly a style beats the one it counters, in (0, 1/2] */
    public CyclicStyleOracle(double cycleStrength) {
        if (!(cycleStrength > 0 && cycleStrength <= 0.5)) {
            throw new IllegalArgumentException("cycleStrength must be in (0, 0.5], was " + cycleStrength);
        }
        this.cycleStrength = cycleStrength;
        this.game = new PreferenceGame(matrix(cycleStrength));
    }

    private CyclicStyleOracle() {
        this.cycleStrength = 0;
        this.game = new PreferenceGame(matrix(0));
    }

    /**
     * The transitive variant: a correct answer beats a wrong one, any two correct answers tie
     * whatever their styles (cycle strength 0). Exploitability is then half the share of wrong
     * answers, and every always-correct policy is an equilibrium.
     */
    public static CyclicStyleOracle correctnessOnly() {
        return new CyclicStyleOracle();
    }

    /** True when the styles form a cycle (false for {@link #correctnessOnly()}). */
    public boolean cyclic() {
        return cycleStrength > 0;
    }

    /** The style that {@code style} beats in the cycle. */
    public static AnswerStyle beatenBy(AnswerStyle style) {
        return switch (style) {
            case SENTENCE -> AnswerStyle.BARE;
            case EQUATION -> AnswerStyle.SENTENCE;
            case BARE -> AnswerStyle.EQUATION;
        };
    }

    /** The style that beats {@code style}: its counter. */
    public static AnswerStyle counterOf(AnswerStyle style) {
        for (AnswerStyle s : AnswerStyle.values()) {
            if (beatenBy(s) == style) {
                return s;
            }
        }
        throw new AssertionError("the cycle covers every style");
    }

    private static double[][] matrix(double strength) {
        Outcome[] outcomes = Outcome.values();
        double[][] p = new double[outcomes.length][outcomes.length];
        for (Outcome a : outcomes) {
            for (Outcome b : outcomes) {
                double v;
                if (a == Outcome.WRONG || b == Outcome.WRONG) {
                    v = a == b ? 0.5 : (a == Outcome.WRONG ? 0.0 : 1.0);
                } else if (a == b) {
                    v = 0.5;
                } else {
                    v = beatenBy(a.style()) == b.style() ? 0.5 + strength : 0.5 - strength;
                }
                p[a.ordinal()][b.ordinal()] = v;
            }
        }
        return p;
    }

    public double cycleStrength() {
        return cycleStrength;
    }

    /** The exact game over {@link Outcome}s (indices are the ordinals). */
    public PreferenceGame game() {
        return game;
    }

    @Override
    public String name() {
        return cyclic() ? "arithmetic-cyclic-styles" : "arithmetic-correctness";
    }

    @Override
    public Set<OracleKind> kinds() {
        return EnumSet.of(OracleKind.LISTWISE, OracleKind.PAIRWISE);
    }

    /** The outcome of one response; throws IllegalArgumentException for a prompt outside the family. */
    public Outcome outcome(String prompt, String response) {
        return Outcome.of(Grade.of(ArithmeticTasks.parse(prompt), response));
    }

    /** P(first ≻ second | prompt), exactly. */
    public double preference(String prompt, String first, String second) {
        ArithmeticTask task = ArithmeticTasks.parse(prompt);
        Outcome a = Outcome.of(Grade.of(task, first));
        Outcome b = Outcome.of(Grade.of(task, second));
        return game.preference(a.ordinal(), b.ordinal());
    }

    @Override
    public PairwiseJudgment compare(String prompt, Candidate first, Candidate second) {
        Objects.requireNonNull(first, "first");
        Objects.requireNonNull(second, "second");
        ArithmeticTask task = taskOf(prompt);
        if (task == null) return PairwiseJudgment.unusable("not a built-in arithmetic task: " + prompt);
        Outcome a = Outcome.of(Grade.of(task, first.text()));
        Outcome b = Outcome.of(Grade.of(task, second.text()));
        return PairwiseJudgment.ok(game.preference(a.ordinal(), b.ordinal()), a + " vs " + b);
    }

    /** The task the prompt states, counting the judgment (and, when the prompt is none, the unusable one); null when it is none. */
    private ArithmeticTask taskOf(String prompt) {
        judgments.incrementAndGet();
        try {
            return ArithmeticTasks.parse(prompt);
        } catch (IllegalArgumentException e) {
            unusable.incrementAndGet();
            return null;
        }
    }

    @Override
    public ListwiseJudgment score(String prompt, List<Candidate> candidates) {
        if (candidates == null || candidates.isEmpty()) {
            throw new IllegalArgumentException("candidates must not be empty");
        }
        ArithmeticTask task = taskOf(prompt);
        if (task == null) return ListwiseJudgment.unusable("not a built-in arithmetic task: " + prompt);
        int n = candidates.size();
        Outcome[] outcomes = new Outcome[n];
        for (int i = 0; i < n; i++) {
            outcomes[i] = Outcome.of(Grade.of(task, candidates.get(i).text()));
        }
        double[] winRate = new double[n];
        double bestCorrect = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            winRate[i] = 0.5;
            if (n > 1) {
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    if (j != i) {
                        sum += game.preference(outcomes[i].ordinal(), outcomes[j].ordinal());
                    }
                }
                winRate[i] = sum / (n - 1);
            }
            if (outcomes[i] != Outcome.WRONG) {
                bestCorrect = Math.max(bestCorrect, winRate[i]);
            }
        }
        List<Double> scores = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            scores.add(outcomes[i] == Outcome.WRONG ? 0.0 : Math.max(2.0, (double) Math.round(6.0 - 6.0 * (bestCorrect - winRate[i]))));
        }
        return ListwiseJudgment.ok(scores, List.of());
    }

    /** The empirical distribution over {@link Outcome}s (by ordinal) of a policy's samples. */
    public double[] outcomeDistribution(String prompt, List<String> samples) {
        if (samples == null || samples.isEmpty()) {
            throw new IllegalArgumentException("samples for prompt '" + prompt + "' must not be empty");
        }
        ArithmeticTask task = ArithmeticTasks.parse(prompt);
        double[] d = new double[Outcome.values().length];
        for (String s : samples) {
            d[Outcome.of(Grade.of(task, s)).ordinal()] += 1.0 / samples.size();
        }
        return d;
    }

    /** The exploitability of the policy whose samples for one prompt these are. */
    public double exploitability(String prompt, List<String> samples) {
        return game.exploitability(outcomeDistribution(prompt, samples));
    }

    /**
     * Mean over prompts of each prompt's exploitability: the definition (a best response may
     * depend on the prompt). Estimated from few samples per prompt it is biased upwards: K=5
     * samples of the equilibrium rarely split evenly over three styles.
     */
    public double exploitability(Map<String, List<String>> samplesByPrompt) {
        checkNotEmpty(samplesByPrompt);
        double total = 0;
        for (Map.Entry<String, List<String>> e : samplesByPrompt.entrySet()) {
            total += exploitability(e.getKey(), e.getValue());
        }
        return total / samplesByPrompt.size();
    }

    /**
     * Exploitability (per prompt, and pooled over prompts), the share of correct answers and the
     * style mix of the correct ones ({@code style_bare}, {@code style_sentence}, {@code style_equation},
     * as shares of all samples).
     */
    @Override
    public Map<String, Double> diagnostics(Map<String, List<String>> samplesByPrompt) {
        double[] dist = pooledDistribution(samplesByPrompt);
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        out.put("exploitability", exploitability(samplesByPrompt));
        out.put("pooled_exploitability", game.exploitability(dist));
        out.put("correct", 1 - dist[0]);
        out.put("style_bare", dist[1]);
        out.put("style_sentence", dist[2]);
        out.put("style_equation", dist[3]);
        return out;
    }

    /**
     * Exploitability by a response that may not depend on the prompt, against the policy's outcome
     * distribution averaged over prompts (each prompt weighted equally). A lower bound of
     * {@link #exploitability(Map)}'s true value, with much less sampling noise.
     */
    public double pooledExploitability(Map<String, List<String>> samplesByPrompt) {
        return game.exploitability(pooledDistribution(samplesByPrompt));
    }

    /** The outcome distribution averaged over prompts, each weighted equally. */
    public double[] pooledDistribution(Map<String, List<String>> samplesByPrompt) {
        checkNotEmpty(samplesByPrompt);
        double[] pooled = new double[Outcome.values().length];
        for (Map.Entry<String, List<String>> e : samplesByPrompt.entrySet()) {
            double[] d = outcomeDistribution(e.getKey(), e.getValue());
            for (int i = 0; i < d.length; i++) {
                pooled[i] += d[i] / samplesByPrompt.size();
            }
        }
        return pooled;
    }

    /** The best response to the policy's samples for one prompt, as text, and its win-rate. */
    public Response bestResponse(String prompt, List<String> samples) {
        PreferenceGame.BestResponse best = game.bestResponse(outcomeDistribution(prompt, samples));
        Outcome outcome = Outcome.values()[best.outcome()];
        // Any wrong text will do for WRONG; it can only be best if every outcome ties.
        String text = outcome == Outcome.WRONG ? "?" : outcome.style().render(ArithmeticTasks.parse(prompt));
        return new Response(outcome, text, best.winRate());
    }

    /** Expected P(a ≻ b) for a drawn from samplesA and b from samplesB: all pairs, exactly. */
    public double winRate(String prompt, List<String> samplesA, List<String> samplesB) {
        return game.winRate(outcomeDistribution(prompt, samplesA), outcomeDistribution(prompt, samplesB));
    }

    /** Mean over prompts of {@link #winRate(String, List, List)}; both maps need the same prompts. */
    public double winRate(Map<String, List<String>> samplesA, Map<String, List<String>> samplesB) {
        checkNotEmpty(samplesA);
        if (!samplesA.keySet().equals(samplesB.keySet())) {
            throw new IllegalArgumentException("samplesA and samplesB must cover the same prompts");
        }
        double total = 0;
        for (String prompt : samplesA.keySet()) {
            total += winRate(prompt, samplesA.get(prompt), samplesB.get(prompt));
        }
        return total / samplesA.size();
    }

    @Override
    public OracleStats stats() {
        return new OracleStats(0, 0, 0, 0, 0, judgments.get(), unusable.get(), 0, 0);
    }

    private static void checkNotEmpty(Map<String, List<String>> samplesByPrompt) {
        if (samplesByPrompt == null || samplesByPrompt.isEmpty()) {
            throw new IllegalArgumentException("samplesByPrompt must not be empty");
        }
    }

    /** A response, its outcome, and its expected win-rate against the policy it answers. */
    public record Response(Outcome outcome, String text, double winRate) {
    }
}
