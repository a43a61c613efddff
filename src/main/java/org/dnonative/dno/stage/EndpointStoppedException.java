package org.dnonative.dno.stage;

import java.util.Comparator;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The run stopped because an endpoint it depends on (the judge, the teacher) was down for longer than
 * its patience, or answered too little that is usable. Not bad input, so the exit code is 1; the
 * stage that stopped has no marker, and what the endpoint did answer is cached, so
 * {@code train --resume} asks exactly what is missing.
 */
public final class EndpointStoppedException extends RuntimeException {
    public EndpointStoppedException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A judgment's detail reduced to its cause, so that many unusable judgments group by why. */
    public static String cause(String detail) {
        String d = detail == null ? "" : detail.strip();
        d = d.replaceFirst("^one order was (UNUSABLE|FAILED): ", "");
        d = d.replaceFirst("^malformed after \\d+ asks: ", "malformed: ");
        d = d.replaceAll("label [A-Z]\\b", "label X");
        return d.length() <= 120 ? d : d.substring(0, 120) + "...";
    }

    /** The three most common causes with their counts, e.g. {@code 88 x HTTP 400: model not found}. */
    public static String causes(Map<String, Integer> counts) {
        String top = counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()))
                .limit(3).map(e -> e.getValue() + " x " + (e.getKey().isEmpty() ? "no detail" : e.getKey()))
                .collect(Collectors.joining("; "));
        return counts.size() > 3 ? top + "; ..." : top;
    }
}
