package org.dnonative.dno;

import java.util.Objects;

/** A prompt and, when there is one, the teacher's gold response to it. */
public record PromptRecord(String prompt, String gold) {
    public PromptRecord {
        Objects.requireNonNull(prompt, "prompt");
    }
}
