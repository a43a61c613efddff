package org.dnonative.dno.store;

/** A prompt of the run with its id (unique within the run's split: {@code p0042} training, {@code e0003} held out) and the teacher's gold response, if any. */
public record PromptEntry(String id, String prompt, String gold) {}
