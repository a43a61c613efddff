package org.dnonative.oracle.judge;

import java.util.concurrent.atomic.AtomicLong;

import org.dnonative.oracle.OracleStats;

/** The judge's running counts, safe to bump from many request threads. */
final class JudgeCounters {
    final AtomicLong requests = new AtomicLong();
    final AtomicLong promptTokens = new AtomicLong();
    final AtomicLong completionTokens = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLong malformedAnswers = new AtomicLong();
    final AtomicLong judgments = new AtomicLong();
    final AtomicLong unusable = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong cacheHits = new AtomicLong();

    OracleStats snapshot() {
        return new OracleStats(requests.get(), promptTokens.get(), completionTokens.get(), retries.get(),
                malformedAnswers.get(), judgments.get(), unusable.get(), failures.get(), cacheHits.get());
    }
}
