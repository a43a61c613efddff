package org.dnonative.oracle.builtin;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The three ways a response to an arithmetic prompt such as {@code 12+7=} may be written. They are
 * short and made of few distinct characters, so a tiny character-level model can learn all three,
 * and each is recognised by an exact pattern (after trimming surrounding white space).
 */
public enum AnswerStyle {
    /** {@code 19} */
    BARE(Pattern.compile("(-?\\d+)")),
    /** {@code the answer is 19} */
    SENTENCE(Pattern.compile("the answer is (-?\\d+)")),
    /** {@code 12+7=19}: restates the expression, which must be the prompt's. */
    EQUATION(Pattern.compile("(\\d+[+\\-*]\\d+)=(-?\\d+)"));

    private final Pattern pattern;

    AnswerStyle(Pattern pattern) {
        this.pattern = pattern;
    }

    /** Writes {@code answer} to the task's expression in this style. */
    public String render(ArithmeticTask task) {
        String answer = Integer.toString(task.answer());
        return switch (this) {
            case BARE -> answer;
            case SENTENCE -> "the answer is " + answer;
            case EQUATION -> task.expression() + "=" + answer;
        };
    }

    /**
     * The parts of a response written in this style: the restated expression (empty unless
     * {@link #EQUATION}) and the answer text, or null when the response is not in this style.
     */
    Parts parse(String trimmedResponse) {
        Matcher m = pattern.matcher(trimmedResponse);
        if (!m.matches()) {
            return null;
        }
        return this == EQUATION ? new Parts(m.group(1), m.group(2)) : new Parts("", m.group(1));
    }

    record Parts(String expression, String answer) {
    }
}
