package org.dnonative.oracle.builtin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built-in task family of the embedded default run: small arithmetic prompts ({@code 12+7=})
 * with a teacher that solves them and writes its gold response in any {@link AnswerStyle}.
 *
 * <p>The family is finite (every {@code a op b} with operands in {@code [0, maxOperand]}; for
 * {@code -} only {@code a >= b}, so answers are never negative), so an iteration's prompts can be
 * drawn without overlap from one seeded shuffle of the whole family.
 */
public final class ArithmeticTasks {

    private static final Pattern PROMPT = Pattern.compile("(\\d+)([+\\-*])(\\d+)=");

    private final int maxOperand;
    private final String operators;

    /**
     * @param maxOperand the largest operand, at least 1
     * @param operators  a non-empty subset of {@code +-*}, e.g. {@code "+-"}
     */
    public ArithmeticTasks(int maxOperand, String operators) {
        if (maxOperand < 1) {
            throw new IllegalArgumentException("maxOperand must be >= 1, was " + maxOperand);
        }
        if (operators == null || operators.isEmpty() || !operators.matches("[+\\-*]+")
                || operators.chars().distinct().count() != operators.length()) {
            throw new IllegalArgumentException(
                    "operators must be distinct characters among + - *, was " + operators);
        }
        this.maxOperand = maxOperand;
        this.operators = operators;
    }

    /** Sums and differences of operands up to 20: 672 distinct prompts. */
    public static ArithmeticTasks defaults() {
        return new ArithmeticTasks(20, "+-");
    }

    /** Every task of the family, in a fixed order. */
    public List<ArithmeticTask> all() {
        List<ArithmeticTask> tasks = new ArrayList<>();
        for (char op : operators.toCharArray()) {
            for (int a = 0; a <= maxOperand; a++) {
                for (int b = 0; b <= maxOperand; b++) {
                    if (op != '-' || a >= b) {
                        tasks.add(new ArithmeticTask(a, op, b));
                    }
                }
            }
        }
        return tasks;
    }

    /** The whole family in an order fixed by {@code seed}; split it for non-overlapping parts. */
    public List<ArithmeticTask> shuffled(long seed) {
        List<ArithmeticTask> tasks = all();
        Collections.shuffle(tasks, new Random(seed));
        return tasks;
    }

    /** {@code count} distinct prompts chosen by {@code seed}. */
    public List<String> prompts(int count, long seed) {
        List<ArithmeticTask> tasks = shuffled(seed);
        if (count < 0 || count > tasks.size()) {
            throw new IllegalArgumentException(
                    "count must be in [0, " + tasks.size() + "], was " + count);
        }
        List<String> prompts = new ArrayList<>(count);
        for (ArithmeticTask t : tasks.subList(0, count)) {
            prompts.add(t.prompt());
        }
        return prompts;
    }

    /** Reads a prompt such as {@code 12+7=} back into its task (any operands, any of + - *). */
    public static ArithmeticTask parse(String prompt) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt must not be null");
        }
        Matcher m = PROMPT.matcher(prompt.strip());
        if (!m.matches() || m.group(1).length() > 6 || m.group(3).length() > 6) {
            throw new IllegalArgumentException(
                    "prompt must look like 12+7= (operands of at most 6 digits), was '" + prompt + "'");
        }
        return new ArithmeticTask(Integer.parseInt(m.group(1)), m.group(2).charAt(0),
                Integer.parseInt(m.group(3)));
    }

    /**
     * A near miss in {@code style}: the right form with an answer off by 1 to 3 (never negative).
     * For imperfect demonstrations, and for tests that need wrong answers that look right.
     */
    public static String nearMiss(ArithmeticTask task, AnswerStyle style, RandomGenerator random) {
        if (task == null || style == null || random == null) {
            throw new IllegalArgumentException("task, style and random must not be null");
        }
        int offset = 1 + random.nextInt(3);
        int wrong = task.answer() - offset >= 0 && random.nextBoolean() ? task.answer() - offset : task.answer() + offset;
        String right = style.render(task);
        // Every style ends with the answer, so replacing the tail keeps the form exact.
        return right.substring(0, right.length() - Integer.toString(task.answer()).length()) + wrong;
    }

    /**
     * A response that gives no answer. It matches no style, so {@link Grade} calls it malformed and the
     * oracle counts it as wrong; it shares no token with a right answer (but the end of sequence).
     */
    public static final String REFUSAL = "?";

    /** The teacher's gold response to {@code prompt}, written in {@code style}. */
    public static String goldResponse(String prompt, AnswerStyle style) {
        if (style == null) {
            throw new IllegalArgumentException("style must not be null");
        }
        return style.render(parse(prompt));
    }
}
