package org.dnonative.dno.stage;

import org.dnonative.dist.Cluster;
import org.dnonative.oracle.OracleStats;

/** The oracle's counters summed over the ranks (each rank's oracle judged its shard). */
final class ClusterStats {
    private ClusterStats() {}

    static OracleStats sum(Cluster cluster, OracleStats s, String what) {
        if (!cluster.distributed()) return s;
        double[] v = cluster.sum(new double[] {s.requests(), s.promptTokens(), s.completionTokens(), s.retries(), s.malformedAnswers(),
                s.judgments(), s.unusable(), s.failures(), s.cacheHits()}, what);
        return new OracleStats((long) v[0], (long) v[1], (long) v[2], (long) v[3], (long) v[4], (long) v[5], (long) v[6], (long) v[7], (long) v[8]);
    }
}
