package org.dnonative.oracle;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A preference oracle P(y ≻ y' | x): what DNO optimises against. Implement it to plug any judge
 * into the DNO loop.
 *
 * <p>An oracle gives list-wise scores (all candidates of a prompt side by side, one score each, on
 * the scale {@code [0, maxScore()]}), pairwise preferences (general: they need not come from any
 * score and may be intransitive), or both; {@link #kinds()} says which. Pair construction uses
 * whichever is there.
 *
 * <p>Implementations must be thread-safe: a caller may annotate many prompts concurrently. The batch
 * methods exist so that an oracle with its own concurrency limit (a remote judge) can fan a batch
 * out itself; their default implementations call the single-item methods in order. Per-item
 * problems come back as {@link JudgmentStatus#UNUSABLE} or {@link JudgmentStatus#FAILED} judgments,
 * never as exceptions, so one bad prompt never costs a batch.
 */
public interface PreferenceOracle extends AutoCloseable {

    /** A short name for logs and metrics. */
    String name();

    /** The kinds of answer this oracle gives. */
    Set<OracleKind> kinds();

    default boolean answers(OracleKind kind) {
        return kinds().contains(kind);
    }

    /**
     * The top of the list-wise score scale. The paper's judge uses an additive 6-point rubric
     * (0..6), and the default pair thresholds (positive at least 5, margin 2 or 1) assume it.
     */
    default double maxScore() {
        return 6.0;
    }

    /** Scores every candidate of one prompt; the scores come back in the candidates' order. */
    default ListwiseJudgment score(String prompt, List<Candidate> candidates) {
        throw new UnsupportedOperationException(name() + " gives no list-wise scores");
    }

    /** P(first ≻ second | prompt). */
    default PairwiseJudgment compare(String prompt, Candidate first, Candidate second) {
        throw new UnsupportedOperationException(name() + " gives no pairwise preferences");
    }

    /** Scores a batch of prompts; the judgments come back in the requests' order. */
    default List<ListwiseJudgment> scoreAll(List<ListwiseRequest> requests) {
        List<ListwiseJudgment> out = new ArrayList<>(requests.size());
        for (ListwiseRequest r : requests) {
            out.add(score(r.prompt(), r.candidates()));
        }
        return out;
    }

    /** Compares a batch of pairs; the judgments come back in the requests' order. */
    default List<PairwiseJudgment> compareAll(List<PairwiseRequest> requests) {
        List<PairwiseJudgment> out = new ArrayList<>(requests.size());
        for (PairwiseRequest r : requests) {
            out.add(compare(r.prompt(), r.first(), r.second()));
        }
        return out;
    }

    /**
     * What this oracle can measure exactly about the policy that produced these samples, by metric
     * name (snake_case), in a fixed order: an oracle whose game is known (the built-in ones) reports
     * at least {@code exploitability}, the best response's expected win-rate against the policy
     * minus 1/2 (0 exactly at a Nash equilibrium, at most 1/2). Empty for an oracle that knows no
     * game (an LLM judge). Throws IllegalArgumentException for samples it cannot grade.
     *
     * @param samplesByPrompt the policy's sampled responses, per prompt
     */
    default Map<String, Double> diagnostics(Map<String, List<String>> samplesByPrompt) {
        return Map.of();
    }

    /** Cumulative counters since this oracle was created. */
    default OracleStats stats() {
        return OracleStats.ZERO;
    }

    /** Releases threads and files; the default holds none. */
    @Override
    default void close() {
    }
}
