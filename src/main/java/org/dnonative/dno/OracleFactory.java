package org.dnonative.dno;

import org.dnonative.dno.config.EndpointConfig;
import org.dnonative.dno.config.OracleConfig;
import org.dnonative.oracle.OracleKind;
import org.dnonative.oracle.PreferenceOracle;
import org.dnonative.oracle.builtin.CyclicStyleOracle;
import org.dnonative.oracle.judge.JudgeConfig;
import org.dnonative.oracle.judge.OpenAiJudge;
import org.dnonative.oracle.judge.RetryPolicy;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/** The preference oracle a configuration names. */
public final class OracleFactory {
    private OracleFactory() {}

    /**
     * @param shuffleSeed the judge's seed for the order it presents candidates in
     * @param cacheDir    the judge's persistent judgment cache (null: none)
     */
    public static PreferenceOracle open(OracleConfig c, long shuffleSeed, Path cacheDir) {
        return open(c, shuffleSeed, cacheDir, null);
    }

    /** @param cacheWriter the judge's own file in the cache directory (null: the main file; see JudgmentCache) */
    public static PreferenceOracle open(OracleConfig c, long shuffleSeed, Path cacheDir, String cacheWriter) {
        return switch (c.kind()) {
            case BUILTIN -> c.builtin() == OracleConfig.Builtin.CORRECTNESS ? CyclicStyleOracle.correctnessOnly()
                    : new CyclicStyleOracle(c.cycleStrength());
            case JUDGE -> {
                Set<OracleKind> kinds = switch (c.mode()) {
                    case LISTWISE -> EnumSet.of(OracleKind.LISTWISE);
                    case PAIRWISE -> EnumSet.of(OracleKind.PAIRWISE);
                    case BOTH -> EnumSet.of(OracleKind.LISTWISE, OracleKind.PAIRWISE);
                };
                EndpointConfig j = c.judge();
                JudgeConfig.Builder b = JudgeConfig.builder(j.baseUrl(), j.model()).apiKeyEnv(j.apiKeyEnv())
                        .requestTimeout(j.timeout()).concurrency(j.concurrency()).retry(RetryPolicy.patient(j.patience()))
                        .kinds(kinds).shuffleSeed(shuffleSeed);
                if (cacheDir != null) b.cacheDir(cacheDir).cacheWriter(cacheWriter);
                yield OpenAiJudge.open(b.build());
            }
        };
    }
}
