package org.dnonative.oracle.judge;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads a pairwise verdict ("A", "B" or "TIE") as P(A ≻ B). When the endpoint returned log-probs,
 * the verdict token's top alternatives give a soft P = (p_A + p_TIE/2) / (p_A + p_B + p_TIE);
 * otherwise the verdict itself: 1, 0, or 1/2 for a tie.
 */
final class PairwiseVerdictParser {

    private static final Pattern VERDICT = Pattern.compile("^(?:RESPONSE\\s+)?(A|B|TIE)\\b");

    private PairwiseVerdictParser() {
    }

    record Verdict(double probabilityAWins, boolean soft) {
    }

    static Verdict parse(String content, JsonNode logprobs) throws MalformedAnswerException {
        String hard = verdictOf(content);
        if (hard == null) {
            throw new MalformedAnswerException("the answer is not A, B or TIE");
        }
        Double soft = logprobs == null ? null : soft(logprobs);
        if (soft != null) {
            return new Verdict(soft, true);
        }
        return new Verdict(hard.equals("A") ? 1.0 : hard.equals("B") ? 0.0 : 0.5, false);
    }

    private static String verdictOf(String text) {
        String cleaned = text.strip().replaceAll("^[\\s\"'*`(\\[]+", "").toUpperCase(Locale.ROOT);
        Matcher m = VERDICT.matcher(cleaned);
        return m.find() ? m.group(1) : null;
    }

    /** The soft P from the first token that is a verdict, or null when there is none to use. */
    private static Double soft(JsonNode tokens) {
        for (JsonNode token : tokens) {
            String t = token.path("token").asText("");
            if (tokenVerdict(t) == null) {
                continue;
            }
            double a = 0;
            double b = 0;
            double tie = 0;
            for (JsonNode alt : token.path("top_logprobs")) {
                String v = tokenVerdict(alt.path("token").asText(""));
                JsonNode lp = alt.path("logprob");
                if (v == null || !lp.isNumber()) {
                    continue;
                }
                double p = Math.exp(lp.asDouble());
                switch (v) {
                    case "A" -> a += p;
                    case "B" -> b += p;
                    default -> tie += p;
                }
            }
            double total = a + b + tie;
            return total > 0 ? (a + tie / 2) / total : null;
        }
        return null;
    }

    /** The verdict a single token spells (" A", "B", "TIE", "Tie"), or null. */
    private static String tokenVerdict(String token) {
        String t = token.strip().replaceAll("[\"'*`.:,()\\[\\]]", "").toUpperCase(Locale.ROOT);
        return t.equals("A") || t.equals("B") || t.equals("TIE") ? t : null;
    }
}
