package org.dnonative.dno;

import org.dnonative.oracle.Candidate;
import org.dnonative.oracle.ListwiseJudgment;
import org.dnonative.oracle.ListwiseRequest;
import org.dnonative.oracle.OracleKind;
import org.dnonative.oracle.PairwiseJudgment;
import org.dnonative.oracle.PairwiseRequest;
import org.dnonative.oracle.PreferenceOracle;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Win-rate of one policy against another on a prompt set, judged by an oracle: the mean over
 * prompts of the mean P(a ≻ b) over compared sample pairs (sample i against sample i, or every
 * sample against every sample), with a 95% normal-approximation confidence interval over prompts.
 * A pairwise oracle is asked P(a ≻ b) directly; a list-wise one scores a and b side by side
 * (higher score wins, a tie is 1/2). Unusable judgments are left out.
 */
public final class WinRates {
    private WinRates() {}

    public record Estimate(double winRate, double ci95, int prompts, int comparisons) {
        public String format() {
            return String.format("%.3f ± %.3f", winRate, ci95);
        }
    }

    public static Estimate compare(PreferenceOracle oracle, List<String> prompts, Map<String, List<String>> a,
                                   Map<String, List<String>> b, boolean allPairs) {
        return estimate(perPrompt(oracle, prompts, a, b, allPairs));
    }

    /** One prompt's part of a win-rate: the sum of its usable P(a ≻ b) and how many there were. */
    public record PromptScore(double sum, int count) {}

    /** The win-rate from every prompt's part (a distributed run judges the prompts in shards). */
    public static Estimate estimate(List<PromptScore> scores) {
        List<Double> perPrompt = new ArrayList<>();
        int comparisons = 0;
        for (PromptScore s : scores) {
            if (s.count() > 0) perPrompt.add(s.sum() / s.count());
            comparisons += s.count();
        }
        return estimate(perPrompt, comparisons);
    }

    /** Each prompt's part of the win-rate of a against b, in prompt order. */
    public static List<PromptScore> perPrompt(PreferenceOracle oracle, List<String> prompts, Map<String, List<String>> a,
                                              Map<String, List<String>> b, boolean allPairs) {
        List<int[]> index = new ArrayList<>();   // (prompt, i, j)
        for (int p = 0; p < prompts.size(); p++) {
            List<String> sa = a.get(prompts.get(p)), sb = b.get(prompts.get(p));
            if (sa == null || sb == null) throw new IllegalArgumentException("no samples for prompt '" + prompts.get(p) + "'");
            if (allPairs) {
                for (int i = 0; i < sa.size(); i++) for (int j = 0; j < sb.size(); j++) index.add(new int[]{p, i, j});
            } else {
                for (int i = 0; i < Math.min(sa.size(), sb.size()); i++) index.add(new int[]{p, i, i});
            }
        }
        double[] prob = new double[index.size()];
        if (oracle.answers(OracleKind.PAIRWISE)) {
            List<PairwiseRequest> req = new ArrayList<>();
            for (int[] x : index) {
                String prompt = prompts.get(x[0]);
                req.add(new PairwiseRequest(prompt, Candidate.sample(a.get(prompt).get(x[1])), Candidate.sample(b.get(prompt).get(x[2]))));
            }
            List<PairwiseJudgment> out = oracle.compareAll(req);
            for (int k = 0; k < prob.length; k++) prob[k] = out.get(k).isUsable() ? out.get(k).probabilityFirstWins() : Double.NaN;
        } else {
            List<ListwiseRequest> req = new ArrayList<>();
            for (int[] x : index) {
                String prompt = prompts.get(x[0]);
                req.add(new ListwiseRequest(prompt, List.of(Candidate.sample(a.get(prompt).get(x[1])),
                        Candidate.sample(b.get(prompt).get(x[2])))));
            }
            List<ListwiseJudgment> out = oracle.scoreAll(req);
            for (int k = 0; k < prob.length; k++) {
                ListwiseJudgment j = out.get(k);
                prob[k] = !j.isUsable() ? Double.NaN : Double.compare(j.score(0), j.score(1)) > 0 ? 1.0
                        : j.score(0) == j.score(1) ? 0.5 : 0.0;
            }
        }
        double[] sum = new double[prompts.size()];
        int[] count = new int[prompts.size()];
        for (int k = 0; k < prob.length; k++) {
            if (Double.isNaN(prob[k])) continue;
            sum[index.get(k)[0]] += prob[k];
            count[index.get(k)[0]]++;
        }
        List<PromptScore> out = new ArrayList<>();
        for (int p = 0; p < sum.length; p++) out.add(new PromptScore(sum[p], count[p]));
        return out;
    }

    static Estimate estimate(List<Double> perPrompt, int comparisons) {
        int n = perPrompt.size();
        if (n == 0) return new Estimate(Double.NaN, Double.NaN, 0, 0);
        double mean = perPrompt.stream().mapToDouble(Double::doubleValue).sum() / n;
        double var = 0;
        for (double x : perPrompt) var += (x - mean) * (x - mean);
        var = n > 1 ? var / (n - 1) : 0;
        return new Estimate(mean, 1.96 * Math.sqrt(var / n), n, comparisons);
    }
}
