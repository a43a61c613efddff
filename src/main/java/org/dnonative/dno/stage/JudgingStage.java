package org.dnonative.dno.stage;

import org.dnonative.dno.Progress;
import org.dnonative.dno.store.Candidate;
import org.dnonative.dno.store.Judgment;
import org.dnonative.dno.store.PromptSamples;
import org.dnonative.oracle.JudgmentStatus;
import org.dnonative.oracle.ListwiseJudgment;
import org.dnonative.oracle.ListwiseRequest;
import org.dnonative.oracle.OracleKind;
import org.dnonative.oracle.OracleStats;
import org.dnonative.oracle.PairwiseJudgment;
import org.dnonative.oracle.PairwiseRequest;
import org.dnonative.oracle.PreferenceOracle;
import org.dnonative.oracle.judge.JudgeUnavailableException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The oracle annotates every prompt's candidates: list-wise scores when the pair rule is list-wise,
 * else every pairwise preference among them. Judgments are keyed by the prompt's and candidates' ids.
 * The stage is done only when every prompt has its judgment: a judge that is down for longer than its
 * patience stops the run (exit 1) without a marker, and so does a share of unusable judgments above
 * {@code oracle.judge.max_unusable_share}; how many were unusable, and why, is told on the console.
 */
public final class JudgingStage implements Stage {
    /** Prompts per batch handed to the oracle (a remote judge fans each batch out itself). */
    private static final int CHUNK = 16;

    @Override
    public String name() { return "judgments"; }

    @Override
    public boolean sharded() { return true; }

    @Override
    public void run(RunContext run, int t) {
        PreferenceOracle oracle = run.oracle();
        List<PromptSamples> samples = run.store().samples(t);
        boolean listwise = run.config().listwisePairs(oracle.answers(OracleKind.LISTWISE));
        OracleStats before = oracle.stats();
        // each rank judges the batches its shard owns (and caches them in its own file); all get every judgment
        List<Judgment> out = run.cluster().gather("judging iteration " + t, samples.size(), Judgment.class,
                () -> judgeShard(run, t, oracle, samples, listwise));
        Map<String, Integer> why = new LinkedHashMap<>();
        for (Judgment j : out) if (!j.ok()) why.merge(EndpointStoppedException.cause(j.detail()), 1, Integer::sum);
        int unusable = why.values().stream().mapToInt(Integer::intValue).sum();
        if (unusable > 0) {
            run.tell("iteration %d: %d of %d judgments unusable (%s)", t, unusable, out.size(), EndpointStoppedException.causes(why));
            var endpoint = run.config().oracle().judge();
            if (endpoint.tooManyUnusable(unusable, out.size()))
                throw new EndpointStoppedException(String.format(Locale.ROOT, "iteration %d: %s gave %d unusable judgments of %d, more than "
                        + "oracle.judge.max_unusable_share (%s): %s", t, oracle.name(), unusable, out.size(), endpoint.maxUnusableShare(),
                        EndpointStoppedException.causes(why)), null);
        }
        run.store().writeJudgments(t, out);
        Map<String, Object> stats = new LinkedHashMap<>();
        // cache hits differ between a resumed and a fresh run, so they are not part of the metrics
        ClusterStats.sum(run.cluster(), oracle.stats().minus(before), "the oracle's counters").asMetrics("oracle_").forEach((k, v) -> { if (!k.equals("oracle_cache_hits")) stats.put(k, v); });
        stats.put("oracle_unusable_prompts", unusable);
        run.store().writeSummary(t, "judgments", stats);
    }

    private static Map<Integer, Judgment> judgeShard(RunContext run, int t, PreferenceOracle oracle, List<PromptSamples> samples, boolean listwise) {
        Map<Integer, Judgment> out = new LinkedHashMap<>();
        var shard = run.cluster().shard();
        // batches of CHUNK prompts; with several ranks, small enough that every rank has one (a judgment
        // does not depend on the batch it was asked in)
        int world = run.cluster().size();
        int chunk = Math.max(1, Math.min(CHUNK, (samples.size() + world - 1) / world));
        try (Progress bar = run.bars().start("annotating", samples.size())) {
            for (int from = 0, c = 0; from < samples.size(); from += chunk, c++) {
                List<PromptSamples> part = samples.subList(from, Math.min(samples.size(), from + chunk));
                if (!shard.owns(c)) {
                    bar.step(part.size());
                    continue;
                }
                List<Judgment> judged;
                try {
                    judged = listwise ? listwise(oracle, part) : pairwise(oracle, part);
                } catch (JudgeUnavailableException e) {
                    // the missing judgments of a list-wise batch are its prompts; of a pairwise one, pairs
                    int unjudged = samples.size() - out.size() - (listwise ? part.size() - e.missing() : 0);
                    throw stopped(run, t, e.getMessage(), unjudged, samples.size(), e);
                }
                // A transport failure is never final: without a marker, a resumed run asks again.
                long failed = judged.stream().filter(j -> j.status().equals(JudgmentStatus.FAILED.name())).count();
                if (failed > 0)
                    throw stopped(run, t, oracle.name() + ": no answer for " + failed + " of " + judged.size() + " prompts ("
                            + judged.stream().filter(j -> j.status().equals(JudgmentStatus.FAILED.name())).findFirst().orElseThrow().detail() + ")",
                            samples.size() - out.size() - part.size() + (int) failed, samples.size(), null);
                for (int i = 0; i < judged.size(); i++) out.put(from + i, judged.get(i));
                bar.step(part.size());
            }
        }
        return out;
    }

    private static EndpointStoppedException stopped(RunContext run, int t, String what, int missing, int prompts, Throwable cause) {
        return new EndpointStoppedException(String.format(Locale.ROOT, "iteration %d: the judge is unavailable: %s; %d of %d prompts "
                + "still lack judgments (the judgments made are cached): `train --resume %s` asks only the missing ones",
                t, what, missing, prompts, run.store().root()), cause);
    }

    private static org.dnonative.oracle.Candidate forOracle(Candidate c) {
        return c.gold() ? org.dnonative.oracle.Candidate.gold(c.text()) : org.dnonative.oracle.Candidate.sample(c.text());
    }

    private static List<Judgment> listwise(PreferenceOracle oracle, List<PromptSamples> part) {
        List<ListwiseRequest> req = part.stream()
                .map(s -> new ListwiseRequest(s.prompt(), s.candidates().stream().map(JudgingStage::forOracle).toList())).toList();
        List<ListwiseJudgment> res = oracle.scoreAll(req);
        List<Judgment> out = new ArrayList<>();
        for (int i = 0; i < part.size(); i++) {
            PromptSamples s = part.get(i);
            ListwiseJudgment j = res.get(i);
            Map<String, Double> scores = new LinkedHashMap<>();
            if (j.isUsable()) for (int k = 0; k < s.candidates().size(); k++) scores.put(s.candidates().get(k).id(), j.scores().get(k));
            out.add(new Judgment(s.promptId(), j.status().name(), scores, null, null, j.detail().isEmpty() ? null : j.detail()));
        }
        return out;
    }

    private static List<Judgment> pairwise(PreferenceOracle oracle, List<PromptSamples> part) {
        List<PairwiseRequest> req = new ArrayList<>();
        for (PromptSamples s : part) {
            List<Candidate> c = s.candidates();
            for (int i = 0; i < c.size(); i++)
                for (int j = i + 1; j < c.size(); j++) req.add(new PairwiseRequest(s.prompt(), forOracle(c.get(i)), forOracle(c.get(j))));
        }
        List<PairwiseJudgment> res = oracle.compareAll(req);
        List<Judgment> out = new ArrayList<>();
        int k = 0;
        for (PromptSamples s : part) {
            int n = s.candidates().size();
            double[][] pref = new double[n][n];
            JudgmentStatus status = JudgmentStatus.OK;
            String detail = null;
            for (int i = 0; i < n; i++) {
                pref[i][i] = 0.5;
                for (int j = i + 1; j < n; j++) {
                    PairwiseJudgment pj = res.get(k++);
                    // the worst status of the prompt's pairs: FAILED over UNUSABLE over OK
                    if (pj.status().compareTo(status) > 0) {
                        status = pj.status();
                        detail = pj.detail();
                    }
                    pref[i][j] = pj.isUsable() ? pj.probabilityFirstWins() : Double.NaN;
                    pref[j][i] = 1 - pref[i][j];
                }
            }
            boolean ok = status == JudgmentStatus.OK;
            List<String> ids = s.candidates().stream().map(Candidate::id).toList();
            out.add(new Judgment(s.promptId(), status.name(), null, ids, ok ? pref : null, detail == null || detail.isEmpty() ? null : detail));
        }
        return out;
    }
}
