package org.dnonative.dno.store;

import java.util.List;

/** One policy's evaluation samples for one held-out prompt. */
public record EvalSamples(String promptId, String prompt, List<String> samples) {}
