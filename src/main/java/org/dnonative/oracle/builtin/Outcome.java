package org.dnonative.oracle.builtin;

/**
 * The outcomes the built-in preference distinguishes: any wrong response (malformed or incorrect:
 * they tie with each other and lose to every correct one), or a correct response in one of the
 * styles. A policy, for the purpose of the game, is a distribution over these.
 */
public enum Outcome {
    WRONG, CORRECT_BARE, CORRECT_SENTENCE, CORRECT_EQUATION;

    public static Outcome of(Grade grade) {
        if (!grade.isCorrect()) {
            return WRONG;
        }
        return correct(grade.style());
    }

    public static Outcome correct(AnswerStyle style) {
        return switch (style) {
            case BARE -> CORRECT_BARE;
            case SENTENCE -> CORRECT_SENTENCE;
            case EQUATION -> CORRECT_EQUATION;
        };
    }

    /** The style of a correct outcome; null for {@link #WRONG}. */
    public AnswerStyle style() {
        return switch (this) {
            case WRONG -> null;
            case CORRECT_BARE -> AnswerStyle.BARE;
            case CORRECT_SENTENCE -> AnswerStyle.SENTENCE;
            case CORRECT_EQUATION -> AnswerStyle.EQUATION;
        };
    }
}
