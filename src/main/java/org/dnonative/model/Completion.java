package org.dnonative.model;

/**
 * One sampled response: its token ids (including the eos token when it stopped on one), its text
 * (special tokens skipped) and why it ended: "eos", "stop" (a stop string appeared) or "length".
 */
public record Completion(int[] ids, String text, String finishReason) {}
