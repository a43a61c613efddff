package org.dnonative.model;

/** The sum of a response's token log-probs given its prompt, and the number of response tokens. */
public record SequenceScore(double logprob, int tokens) {}
