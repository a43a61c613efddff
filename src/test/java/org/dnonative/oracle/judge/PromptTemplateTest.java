package org.dnonative.oracle.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptTemplateTest {

    @Test
    void substitutesOncePerPlaceholderAndNeverExpandsValues() {
        PromptTemplate t = new PromptTemplate("Q: {{prompt}}\nR: {{ response }}$1\\", Set.of("prompt"));
        assertEquals("Q: what is {{response}}?\nR: a $0 answer$1\\",
                t.render(Map.of("prompt", "what is {{response}}?", "response", "a $0 answer")));
    }

    @Test
    void missingPlaceholdersAndValuesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PromptTemplate("no responses here", Set.of("candidates")));
        assertTrue(e.getMessage().contains("{{candidates}}"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new PromptTemplate("{{prompt}} {{extra}}", Set.of()).render(Map.of("prompt", "x")));
        assertTrue(e.getMessage().contains("{{extra}}"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JudgeTemplates.defaults()
                .withPairwisePrompt(new PromptTemplate("{{prompt}} {{response_a}}", Set.of())));
        assertTrue(e.getMessage().contains("response_b"), e.getMessage());
    }

    @Test
    void defaultsShipAsResourcesAndUserTemplatesLoadFromFiles(@TempDir Path dir) throws Exception {
        JudgeTemplates defaults = JudgeTemplates.defaults();
        assertTrue(defaults.listwiseRubric().contains("6-point"));
        assertTrue(defaults.listwisePrompt().placeholders().containsAll(Set.of("rubric", "candidates", "labels")));
        Path file = Files.writeString(dir.resolve("mine.txt"), "Better? {{prompt}} A={{response_a}} B={{response_b}}");
        PromptTemplate mine = PromptTemplate.fromFile(file, JudgeTemplates.PAIRWISE_REQUIRED);
        assertEquals("Better? p A=x B=y", mine.render(Map.of("prompt", "p", "response_a", "x", "response_b", "y")));
        Path bad = Files.writeString(dir.resolve("bad.txt"), "{{prompt}}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptTemplate.fromFile(bad, JudgeTemplates.PAIRWISE_REQUIRED));
        assertTrue(e.getMessage().contains("bad.txt"), e.getMessage());
    }
}
