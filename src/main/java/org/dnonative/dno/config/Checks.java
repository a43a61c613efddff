package org.dnonative.dno.config;

import java.util.ArrayList;
import java.util.List;

/** Collects a record's problems so that one error names all of them. */
final class Checks {
    private final List<FieldProblem> problems = new ArrayList<>();

    Checks require(boolean ok, String field, String message) {
        if (!ok) problems.add(new FieldProblem(field, message));
        return this;
    }

    Checks atLeast(long value, long min, String field) {
        return require(value >= min, field, (min == 0 ? "must be >= 0" : "must be at least " + min) + ", was " + value);
    }

    /** value in (lo, hi] when {@code openLow}, else [lo, hi]; NaN never passes. */
    Checks in(double value, double lo, double hi, boolean openLow, boolean openHigh, String field) {
        boolean ok = (openLow ? value > lo : value >= lo) && (openHigh ? value < hi : value <= hi);
        return require(ok, field, "must be in " + (openLow ? "(" : "[") + num(lo) + ", " + num(hi) + (openHigh ? ")" : "]") + ", was " + value);
    }

    Checks positive(double value, String field) {
        return require(value > 0, field, "must be > 0, was " + value);
    }

    Checks nonNegative(double value, String field) {
        return require(value >= 0, field, "must be >= 0, was " + value);
    }

    Checks notNull(Object value, String field) {
        return require(value != null, field, "is required");
    }

    void throwIfAny() {
        if (!problems.isEmpty()) throw new InvalidConfigException(problems);
    }

    private static String num(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
