package org.dnonative.dno.config;

/**
 * Which pairs an iteration trains on, and how many earlier pairs it replays.
 *
 * @param rule                listwise (scores), pairwise (preferences), or auto (list-wise when the oracle scores)
 * @param positiveMinScore    a positive scores at least this (of the oracle's maximum, 6 for the paper's judge)
 * @param negativeMargin      a negative scores at least this much less
 * @param negativeMarginSelf  the margin when the positive is the policy's own sample
 * @param maxPerPrompt        at most this many pairs per prompt (0: one per negative)
 * @param repetitionNgram     n of the n-gram repetition check
 * @param repetitionThreshold a sample whose share of repeated n-grams exceeds this is a negative (1 = off)
 * @param pairwiseMargin      pairwise rule: pair best and worst when their expected win-rates differ by more
 * @param softTargets         Algorithm 1: soft targets sigma(r_t(y_w) - r_t(y_l)) (needs the pairwise rule)
 * @param replayFraction      share of pairs replayed from iteration t-1, relative to the new pairs
 * @param replayDecay         each older iteration gets this times the previous share
 * @param allTopPositives     list-wise rule: every distinct candidate tied at the top score is a positive
 *                            against each negative (not only the first), so that one prompt's pairs
 *                            do not all favour one of several equally good responses
 * @param rarestTopPositive   list-wise rule: on a tie at the top score, the positive is the policy's own
 *                            sample whose text it sampled least often (not the first), so that a tie does
 *                            not favour the response the policy already gives most
 * @param topTolerance        list-wise rule with {@code allTopPositives}: an own sample within this many points
 *                            of the top score (and at least {@code positiveMinScore}) counts as tied at the top,
 *                            so is a positive too, against each candidate at least the margin below it; 0 = exact ties
 * @param modeBelowTop        list-wise rule: the policy's commonest sample (by text), when it is no positive and scores a
 *                            whole point or more below the top, is a negative of each positive at least that far above it
 *                            (whatever the margins): a pair that takes mass from the response the policy over-produces
 *                            and gives it to the one the oracle prefers to it; other near-top samples stay unpaired
 */
public record PairsConfig(Rule rule, double positiveMinScore, double negativeMargin, double negativeMarginSelf, int maxPerPrompt,
                          int repetitionNgram, double repetitionThreshold, double pairwiseMargin, boolean softTargets,
                          double replayFraction, double replayDecay, boolean allTopPositives,
                          boolean rarestTopPositive, double topTolerance, boolean modeBelowTop) {
    public enum Rule { AUTO, LISTWISE, PAIRWISE }

    public PairsConfig {
        new Checks().notNull(rule, "rule").positive(negativeMargin, "negative_margin").positive(negativeMarginSelf, "negative_margin_self")
                .atLeast(maxPerPrompt, 0, "max_per_prompt").atLeast(repetitionNgram, 1, "repetition_ngram")
                .in(repetitionThreshold, 0, 1, true, false, "repetition_threshold")
                .in(pairwiseMargin, 0, 1, false, true, "pairwise_margin")
                .require(!(softTargets && rule == Rule.LISTWISE), "soft_targets",
                        "needs the pairwise rule (Algorithm 1's r_t), but rule is listwise")
                .in(replayFraction, 0, 1, false, false, "replay_fraction")
                .in(replayDecay, 0, 1, false, false, "replay_decay")
                .require(topTolerance >= 0 && Double.isFinite(topTolerance), "top_tolerance", "must be >= 0, was " + topTolerance)
                .require(topTolerance == 0 || allTopPositives, "top_tolerance",
                        "needs pairs.all_top_positives (it widens the tie at the top that makes every tied sample a positive)")
                .throwIfAny();
    }

    public static PairsConfig defaults() {
        return new PairsConfig(Rule.AUTO, 5, 2, 1, 0, 4, 0.5, 0.1, false, 0.3, 0.5, false, false, 0, false);
    }
}
