package org.dnonative.dno.store;

/** How the prompt set was split: {@code parts} training parts (one per planned iteration) of {@code promptsPerPart} prompts. */
public record SplitInfo(int parts, int promptsPerPart) {}
