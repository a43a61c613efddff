package org.dnonative.oracle.judge;

import java.util.Objects;
import java.util.Set;

/**
 * The judge's replaceable texts. List-wise placeholders: {{prompt}}, {{candidates}} (required),
 * {{rubric}}, {{count}}, {{labels}}, {{example}}. Pairwise: {{prompt}}, {{response_a}},
 * {{response_b}} (all required).
 */
public record JudgeTemplates(String listwiseRubric, PromptTemplate listwisePrompt, PromptTemplate pairwisePrompt) {

    public static final Set<String> LISTWISE_REQUIRED = Set.of("prompt", "candidates");
    public static final Set<String> PAIRWISE_REQUIRED = Set.of("prompt", "response_a", "response_b");

    public JudgeTemplates {
        Objects.requireNonNull(listwiseRubric, "listwiseRubric");
        Objects.requireNonNull(listwisePrompt, "listwisePrompt");
        Objects.requireNonNull(pairwisePrompt, "pairwisePrompt");
        for (String name : LISTWISE_REQUIRED) {
            if (!listwisePrompt.placeholders().contains(name)) {
                throw new IllegalArgumentException("listwisePrompt must use {{" + name + "}}");
            }
        }
        for (String name : PAIRWISE_REQUIRED) {
            if (!pairwisePrompt.placeholders().contains(name)) {
                throw new IllegalArgumentException("pairwisePrompt must use {{" + name + "}}");
            }
        }
    }

    /** The shipped rubric (additive, 0..6) and prompts. */
    public static JudgeTemplates defaults() {
        return new JudgeTemplates(
                PromptTemplate.resource("listwise-rubric.txt").strip(),
                new PromptTemplate(PromptTemplate.resource("listwise-prompt.txt"), LISTWISE_REQUIRED),
                new PromptTemplate(PromptTemplate.resource("pairwise-prompt.txt"), PAIRWISE_REQUIRED));
    }

    public JudgeTemplates withListwiseRubric(String rubric) {
        return new JudgeTemplates(rubric, listwisePrompt, pairwisePrompt);
    }

    public JudgeTemplates withListwisePrompt(PromptTemplate prompt) {
        return new JudgeTemplates(listwiseRubric, prompt, pairwisePrompt);
    }

    public JudgeTemplates withPairwisePrompt(PromptTemplate prompt) {
        return new JudgeTemplates(listwiseRubric, listwisePrompt, prompt);
    }
}
