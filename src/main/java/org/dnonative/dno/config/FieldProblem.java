package org.dnonative.dno.config;

/** A problem with one field of the configuration: the field's dotted snake_case path and what is wrong. */
public record FieldProblem(String field, String message) {
    FieldProblem prefixed(String prefix) {
        return prefix.isEmpty() ? this : new FieldProblem(prefix + "." + field, message);
    }
}
