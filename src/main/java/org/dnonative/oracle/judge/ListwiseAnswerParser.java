package org.dnonative.oracle.judge;

import java.util.Iterator;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads a list-wise answer: a JSON object mapping every label to a score in [0, maxScore], either at
 * the top level or under "scores". Tolerates prose or a code fence around the object, because
 * judges add them even when told not to; anything else is malformed.
 */
final class ListwiseAnswerParser {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ListwiseAnswerParser() {
    }

    /** @return the score of each label, in the labels' order */
    static double[] parse(String content, List<String> labels, double maxScore) throws MalformedAnswerException {
        int start = content.indexOf('{');
        int end = content.lastIndexOf('}');
        if (start < 0 || end < start) {
            throw new MalformedAnswerException("no JSON object in the answer");
        }
        JsonNode root;
        try {
            root = JSON.readTree(content.substring(start, end + 1));
        } catch (JsonProcessingException e) {
            throw new MalformedAnswerException("the answer's JSON does not parse: " + e.getOriginalMessage());
        }
        JsonNode scores = root.has("scores") && root.get("scores").isObject() ? root.get("scores") : root;
        for (Iterator<String> names = scores.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!labels.contains(name)) {
                throw new MalformedAnswerException("the answer scores an unknown label " + name);
            }
        }
        double[] out = new double[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            JsonNode v = scores.get(labels.get(i));
            if (v == null) {
                throw new MalformedAnswerException("the answer has no score for label " + labels.get(i));
            }
            double score;
            if (v.isNumber()) {
                score = v.asDouble();
            } else if (v.isTextual()) {
                try {
                    score = Double.parseDouble(v.asText().trim());
                } catch (NumberFormatException e) {
                    throw new MalformedAnswerException("label " + labels.get(i) + " has a non-numeric score");
                }
            } else {
                throw new MalformedAnswerException("label " + labels.get(i) + " has a non-numeric score");
            }
            if (!(score >= 0 && score <= maxScore)) {
                throw new MalformedAnswerException("label " + labels.get(i) + " has score " + score
                        + " outside [0, " + maxScore + "]");
            }
            out[i] = score;
        }
        return out;
    }
}
