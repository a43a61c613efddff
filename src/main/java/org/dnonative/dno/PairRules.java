package org.dnonative.dno;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How DNO turns annotated candidates into training pairs.
 *
 * <p>List-wise scores (the paper's Algorithm 2): the positive is the best-scored candidate (on a
 * tie the policy's own sample, then the earliest) and must score at least {@code positiveMin};
 * every candidate at least {@code margin} points lower is a negative, {@code marginSelf} points when
 * the positive is the policy's own sample. Samples with heavy n-gram repetition are automatic
 * negatives whatever their score.
 *
 * <p>Pairwise preferences (Algorithm 1's r_t): r_t(y) = mean over the policy's samples y' ≠ y of
 * P(y ≻ y'); the best is paired against the worst when r_t(best) − r_t(worst) exceeds the margin,
 * with the soft target sigma(r_t(best) − r_t(worst)) when asked for.
 */
public final class PairRules {
    private PairRules() {}

    /** One candidate as the rules see it: its text and whether it is the teacher's gold response. */
    public record Candidate(String text, boolean gold) {}

    /** A chosen pair: indices into the candidates, and the soft target (null for a hard target of 1). */
    public record Choice(int winner, int loser, Double target) {}

    public record ListwiseRule(double positiveMin, double margin, double marginSelf, int ngram,
                               double repetitionThreshold, int maxPairs, boolean allTopPositives, boolean rarestTopPositive,
                               double topTolerance, boolean modeBelowTop) {
        public ListwiseRule(double positiveMin, double margin, double marginSelf, int ngram, double repetitionThreshold, int maxPairs) {
            this(positiveMin, margin, marginSelf, ngram, repetitionThreshold, maxPairs, false, false, 0);
        }

        public ListwiseRule(double positiveMin, double margin, double marginSelf, int ngram, double repetitionThreshold, int maxPairs,
                            boolean allTopPositives, boolean rarestTopPositive, double topTolerance) {
            this(positiveMin, margin, marginSelf, ngram, repetitionThreshold, maxPairs, allTopPositives, rarestTopPositive, topTolerance, false);
        }

        public ListwiseRule(double positiveMin, double margin, double marginSelf, int ngram, double repetitionThreshold, int maxPairs,
                            boolean allTopPositives) {
            this(positiveMin, margin, marginSelf, ngram, repetitionThreshold, maxPairs, allTopPositives, false, 0);
        }

        public ListwiseRule(double positiveMin, double margin, double marginSelf, int ngram, double repetitionThreshold, int maxPairs,
                            boolean allTopPositives, boolean rarestTopPositive) {
            this(positiveMin, margin, marginSelf, ngram, repetitionThreshold, maxPairs, allTopPositives, rarestTopPositive, 0);
        }

        public static ListwiseRule of(org.dnonative.dno.config.PairsConfig c) {
            return new ListwiseRule(c.positiveMinScore(), c.negativeMargin(), c.negativeMarginSelf(), c.repetitionNgram(),
                    c.repetitionThreshold(), c.maxPerPrompt(), c.allTopPositives(), c.rarestTopPositive(), c.topTolerance(),
                    c.modeBelowTop());
        }
    }

    public static List<Choice> listwise(List<Candidate> candidates, List<Double> scores, ListwiseRule rule) {
        int n = candidates.size();
        if (scores.size() != n) throw new IllegalArgumentException("scores and candidates differ in number: " + scores.size() + " vs " + n);
        boolean[] repetitive = new boolean[n];
        for (int i = 0; i < n; i++) {
            repetitive[i] = !candidates.get(i).gold() && rule.repetitionThreshold() < 1
                    && repetition(candidates.get(i).text(), rule.ngram()) > rule.repetitionThreshold();
        }
        int pos = -1;
        for (int i = 0; i < n; i++) {
            if (repetitive[i]) continue;
            if (pos < 0 || scores.get(i) > scores.get(pos)
                    || (scores.get(i).equals(scores.get(pos)) && candidates.get(pos).gold() && !candidates.get(i).gold())) {
                pos = i;
            }
        }
        List<Choice> out = new ArrayList<>();
        if (pos < 0 || scores.get(pos) < rule.positiveMin()) return out;
        if (rule.rarestTopPositive() && !candidates.get(pos).gold()) pos = rarestTied(candidates, scores, repetitive, pos);
        double margin = candidates.get(pos).gold() ? rule.margin() : rule.marginSelf();
        // The positives: the first best candidate, or with allTopPositives every distinct candidate
        // tied with it of the same kind (the policy's own samples, or gold responses when no own
        // sample is at the top); with a top tolerance, every one within that many points of the top
        // score that still scores at least positiveMin.
        List<Integer> positives = new ArrayList<>();
        positives.add(pos);
        double top = scores.get(pos);
        if (rule.allTopPositives()) {
            Set<String> seen = new HashSet<>();
            seen.add(candidates.get(pos).text());
            for (int i = 0; i < n; i++) {
                if (i == pos || repetitive[i] || candidates.get(i).gold() != candidates.get(pos).gold()) continue;
                double s = scores.get(i);
                boolean tied = rule.topTolerance() > 0 ? s >= top - rule.topTolerance() && s >= rule.positiveMin() : s == top;
                if (tied && seen.add(candidates.get(i).text())) positives.add(i);
            }
        }
        Set<String> positiveTexts = new HashSet<>();
        for (int p : positives) positiveTexts.add(candidates.get(p).text());
        Set<String> negatives = new HashSet<>();
        for (int i = 0; i < n; i++) {
            if (positives.contains(i)) continue;
            String text = candidates.get(i).text();
            if (positiveTexts.contains(text) || negatives.contains(text)) continue;
            // a negative of a positive scores at least the margin below that positive
            if (repetitive[i] || scores.get(i) <= top - margin) {
                negatives.add(text);
                for (int p : positives) {
                    if (!repetitive[i] && scores.get(i) > scores.get(p) - margin) continue;
                    out.add(new Choice(p, i, null));
                    if (rule.maxPairs() > 0 && out.size() == rule.maxPairs()) return out;
                }
            }
        }
        if (rule.modeBelowTop() && !candidates.get(pos).gold()) {
            int mode = commonestOwn(candidates, repetitive);
            // the policy's commonest response, when it is no positive and not a negative already but
            // scores a whole point or more below the top, is a negative of each positive it is that far below
            if (mode >= 0 && !positiveTexts.contains(candidates.get(mode).text()) && !negatives.contains(candidates.get(mode).text())
                    && scores.get(mode) <= top - 1) {
                for (int p : positives) {
                    if (scores.get(mode) > scores.get(p) - 1) continue;
                    out.add(new Choice(p, mode, null));
                    if (rule.maxPairs() > 0 && out.size() == rule.maxPairs()) return out;
                }
            }
        }
        return out;
    }

    /** The policy's own sample whose text it sampled most often (the earliest of those); -1 when it has none. */
    private static int commonestOwn(List<Candidate> candidates, boolean[] repetitive) {
        java.util.Map<String, Integer> count = new java.util.HashMap<>();
        for (Candidate c : candidates) if (!c.gold()) count.merge(c.text(), 1, Integer::sum);
        int best = -1;
        for (int i = 0; i < candidates.size(); i++) {
            if (repetitive[i] || candidates.get(i).gold()) continue;
            if (best < 0 || count.get(candidates.get(i).text()) > count.get(candidates.get(best).text())) best = i;
        }
        return best;
    }

    /**
     * Among the policy's own samples tied with {@code pos} at the top score, the one whose text the
     * policy sampled least often (the earliest of those): on a tie the positive is the rarest of the
     * equally good responses, not the one the policy already favours.
     */
    private static int rarestTied(List<Candidate> candidates, List<Double> scores, boolean[] repetitive, int pos) {
        java.util.Map<String, Integer> count = new java.util.HashMap<>();
        for (Candidate c : candidates) if (!c.gold()) count.merge(c.text(), 1, Integer::sum);
        int best = pos;
        for (int i = 0; i < candidates.size(); i++) {
            if (repetitive[i] || candidates.get(i).gold() || !scores.get(i).equals(scores.get(pos))) continue;
            if (count.get(candidates.get(i).text()) < count.get(candidates.get(best).text())) best = i;
        }
        return best;
    }

    /**
     * r_t(y) for every candidate: the mean over the policy's samples y' (not y itself) of
     * P(y ≻ y'), from {@code preference[i][j]} = P(candidate i ≻ candidate j).
     */
    public static double[] expectedWinRates(List<Candidate> candidates, double[][] preference) {
        int n = candidates.size();
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            int count = 0;
            for (int j = 0; j < n; j++) {
                if (j == i || candidates.get(j).gold()) continue;
                sum += preference[i][j];
                count++;
            }
            r[i] = count == 0 ? 0.5 : sum / count;
        }
        return r;
    }

    /** The best-against-worst pair by r_t, or null when their margin does not exceed {@code margin}. */
    public static Choice pairwise(List<Candidate> candidates, double[][] preference, double margin, boolean softTargets) {
        double[] r = expectedWinRates(candidates, preference);
        int best = 0, worst = 0;
        for (int i = 1; i < r.length; i++) {
            if (r[i] > r[best]) best = i;
            if (r[i] < r[worst]) worst = i;
        }
        if (best == worst || !(r[best] - r[worst] > margin)) return null;
        if (candidates.get(best).text().equals(candidates.get(worst).text())) return null;
        return new Choice(best, worst, softTargets ? sigmoid(r[best] - r[worst]) : null);
    }

    public static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /**
     * The share of n-grams that repeat an earlier one: 0 for text without repetition, close to 1
     * for a loop. Word n-grams when the text has at least 2n words, character n-grams otherwise;
     * 0 for text with fewer than n units.
     */
    public static double repetition(String text, int n) {
        String[] words = text.trim().split("\\s+");
        List<String> units = new ArrayList<>();
        if (words.length >= 2 * n) {
            for (String w : words) units.add(w);
        } else {
            text.codePoints().forEach(cp -> units.add(new String(Character.toChars(cp))));
        }
        int total = units.size() - n + 1;
        if (total < n) return 0;
        Set<List<String>> seen = new HashSet<>();
        int repeated = 0;
        for (int i = 0; i < total; i++) {
            if (!seen.add(units.subList(i, i + n))) repeated++;
        }
        return (double) repeated / total;
    }
}
