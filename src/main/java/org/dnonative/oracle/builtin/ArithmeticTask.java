package org.dnonative.oracle.builtin;

/**
 * One built-in task: {@code left op right}, with its correct answer. The prompt a policy sees is the
 * expression followed by {@code =}, e.g. {@code 12+7=}.
 */
public record ArithmeticTask(int left, char operator, int right) {

    public ArithmeticTask {
        if (left < 0) {
            throw new IllegalArgumentException("left must be >= 0, was " + left);
        }
        if (right < 0) {
            throw new IllegalArgumentException("right must be >= 0, was " + right);
        }
        if (operator != '+' && operator != '-' && operator != '*') {
            throw new IllegalArgumentException("operator must be one of + - *, was '" + operator + "'");
        }
    }

    public String expression() {
        return left + String.valueOf(operator) + right;
    }

    public String prompt() {
        return expression() + "=";
    }

    /** The teacher's solver. */
    public int answer() {
        return switch (operator) {
            case '+' -> left + right;
            case '-' -> left - right;
            default -> left * right;
        };
    }
}
