package org.dnonative.oracle.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;

import org.junit.jupiter.api.Test;

class ArithmeticTasksTest {

    @Test
    void familyIsFiniteDistinctAndHasNoNegativeAnswers() {
        List<ArithmeticTask> all = ArithmeticTasks.defaults().all();
        assertEquals(21 * 21 + 21 * 22 / 2, all.size());
        assertEquals(all.size(), new HashSet<>(all).size());
        assertTrue(all.stream().allMatch(t -> t.answer() >= 0));
    }

    @Test
    void promptsAreSeededDistinctAndParseBackToTheirTask() {
        ArithmeticTasks tasks = new ArithmeticTasks(9, "+-*");
        List<String> a = tasks.prompts(50, 7);
        assertEquals(a, tasks.prompts(50, 7));
        assertNotEquals(a, tasks.prompts(50, 8));
        assertEquals(50, new HashSet<>(a).size());
        for (String p : a) {
            assertEquals(p, ArithmeticTasks.parse(p).prompt());
        }
        assertThrows(IllegalArgumentException.class, () -> tasks.prompts(100000, 1));
    }

    @Test
    void teacherSolvesAndWritesEachStyle() {
        assertEquals("19", ArithmeticTasks.goldResponse("12+7=", AnswerStyle.BARE));
        assertEquals("the answer is 5", ArithmeticTasks.goldResponse("12-7=", AnswerStyle.SENTENCE));
        assertEquals("3*4=12", ArithmeticTasks.goldResponse("3*4=", AnswerStyle.EQUATION));
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ArithmeticTasks.parse("hello"));
        assertTrue(e.getMessage().contains("prompt"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ArithmeticTasks(0, "+"));
        assertTrue(e.getMessage().contains("maxOperand"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ArithmeticTasks(5, "+/"));
        assertTrue(e.getMessage().contains("operators"), e.getMessage());
    }
}
