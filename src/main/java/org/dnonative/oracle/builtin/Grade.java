package org.dnonative.oracle.builtin;

import java.util.Objects;

/**
 * What a response to an arithmetic prompt is: malformed (in no known style), in a style but wrong,
 * or correct; the style when there is one.
 */
public record Grade(Verdict verdict, AnswerStyle style) {

    public enum Verdict { MALFORMED, INCORRECT, CORRECT }

    public Grade {
        Objects.requireNonNull(verdict, "verdict");
        if ((verdict == Verdict.MALFORMED) != (style == null)) {
            throw new IllegalArgumentException(
                    "style must be null exactly when the verdict is MALFORMED; verdict " + verdict
                            + ", style " + style);
        }
    }

    public boolean isCorrect() {
        return verdict == Verdict.CORRECT;
    }

    /**
     * Grades {@code response} to {@code task}. Surrounding white space is ignored; anything else
     * that does not match a style exactly is malformed. An equation restating another expression
     * than the prompt's is incorrect even when its arithmetic is right.
     */
    public static Grade of(ArithmeticTask task, String response) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(response, "response");
        String trimmed = response.strip();
        for (AnswerStyle style : AnswerStyle.values()) {
            AnswerStyle.Parts parts = style.parse(trimmed);
            if (parts == null) {
                continue;
            }
            boolean rightExpression = style != AnswerStyle.EQUATION
                    || parts.expression().equals(task.expression());
            // Compared as text, so leading zeros or huge numbers are simply wrong, never an overflow.
            boolean rightAnswer = parts.answer().equals(Integer.toString(task.answer()));
            return new Grade(rightExpression && rightAnswer ? Verdict.CORRECT : Verdict.INCORRECT, style);
        }
        return new Grade(Verdict.MALFORMED, null);
    }
}
