package org.dnonative.oracle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cumulative counters of an oracle, for the iteration's metrics. Take a snapshot before and after
 * an iteration and report {@code after.minus(before)}.
 *
 * @param requests         requests sent to a remote judge (each attempt counts)
 * @param promptTokens     prompt tokens reported by the endpoint's {@code usage}
 * @param completionTokens completion tokens reported by the endpoint's {@code usage}
 * @param retries          attempts repeated after a timeout, connection error, 429 or 5xx
 * @param malformedAnswers answers that could not be parsed (each was asked again or gave up)
 * @param judgments        judgments returned (cached or fresh)
 * @param unusable         judgments returned as {@link JudgmentStatus#UNUSABLE}
 * @param failures         judgments returned as {@link JudgmentStatus#FAILED}
 * @param cacheHits        requests answered from the judgment cache
 */
public record OracleStats(long requests, long promptTokens, long completionTokens, long retries,
                          long malformedAnswers, long judgments, long unusable, long failures,
                          long cacheHits) {

    public static final OracleStats ZERO = new OracleStats(0, 0, 0, 0, 0, 0, 0, 0, 0);

    public OracleStats minus(OracleStats earlier) {
        return new OracleStats(requests - earlier.requests, promptTokens - earlier.promptTokens,
                completionTokens - earlier.completionTokens, retries - earlier.retries,
                malformedAnswers - earlier.malformedAnswers, judgments - earlier.judgments,
                unusable - earlier.unusable, failures - earlier.failures,
                cacheHits - earlier.cacheHits);
    }

    /** Flat, ordered names for a metrics line, e.g. {@code oracle_requests}. */
    public Map<String, Long> asMetrics(String prefix) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put(prefix + "requests", requests);
        m.put(prefix + "prompt_tokens", promptTokens);
        m.put(prefix + "completion_tokens", completionTokens);
        m.put(prefix + "retries", retries);
        m.put(prefix + "malformed_answers", malformedAnswers);
        m.put(prefix + "judgments", judgments);
        m.put(prefix + "unusable", unusable);
        m.put(prefix + "failures", failures);
        m.put(prefix + "cache_hits", cacheHits);
        return m;
    }
}
