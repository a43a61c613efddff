package org.dnonative.oracle.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.dnonative.oracle.builtin.Grade.Verdict;
import org.junit.jupiter.api.Test;

class GradeTest {

    private static final ArithmeticTask TASK = ArithmeticTasks.parse("12+7=");

    @Test
    void recognisesEachStyleAndCorrectness() {
        assertEquals(new Grade(Verdict.CORRECT, AnswerStyle.BARE), Grade.of(TASK, "19"));
        assertEquals(new Grade(Verdict.CORRECT, AnswerStyle.SENTENCE), Grade.of(TASK, " the answer is 19\n"));
        assertEquals(new Grade(Verdict.CORRECT, AnswerStyle.EQUATION), Grade.of(TASK, "12+7=19"));
        assertEquals(new Grade(Verdict.INCORRECT, AnswerStyle.BARE), Grade.of(TASK, "18"));
        assertEquals(new Grade(Verdict.INCORRECT, AnswerStyle.BARE), Grade.of(TASK, "019"));
        assertEquals(new Grade(Verdict.INCORRECT, AnswerStyle.SENTENCE), Grade.of(TASK, "the answer is 99999999999999"));
        assertEquals(new Grade(Verdict.INCORRECT, AnswerStyle.EQUATION), Grade.of(TASK, "7+12=19"),
                "an equation must restate the prompt's own expression");
        assertEquals(new Grade(Verdict.INCORRECT, AnswerStyle.EQUATION), Grade.of(TASK, "12+7=20"));
    }

    @Test
    void aRefusalIsNoAnswerAndLosesToEveryCorrectOne() {
        assertEquals(new Grade(Verdict.MALFORMED, null), Grade.of(TASK, ArithmeticTasks.REFUSAL));
        assertEquals(Outcome.WRONG, Outcome.of(Grade.of(TASK, ArithmeticTasks.REFUSAL)));
        assertEquals(0.0, new CyclicStyleOracle(0.25).preference(TASK.prompt(), ArithmeticTasks.REFUSAL, "19"));
    }

    @Test
    void nearMissesKeepTheirStyleAndAreIncorrect() {
        java.util.Random random = new java.util.Random(5);
        for (ArithmeticTask task : new ArithmeticTasks(12, "+-*").all()) {
            for (AnswerStyle style : AnswerStyle.values()) {
                String miss = ArithmeticTasks.nearMiss(task, style, random);
                assertEquals(new Grade(Verdict.INCORRECT, style), Grade.of(task, miss), task + " " + miss);
            }
        }
    }

    @Test
    void anythingElseIsMalformed() {
        for (String s : new String[] {"", "19 19", "the answer is", "answer: 19", "12+7=19=19", "19."}) {
            assertEquals(Verdict.MALFORMED, Grade.of(TASK, s).verdict(), s);
        }
    }
}
