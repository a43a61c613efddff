package org.dnonative.dno.config;

import org.dnonative.dno.ConfigException;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown by a configuration record's compact constructor with every problem it found. Fields are
 * named relative to that record; {@link ConfigLoader} prefixes them with where the record sits and
 * adds the file and line.
 */
public final class InvalidConfigException extends ConfigException {
    private final List<FieldProblem> problems;

    public InvalidConfigException(List<FieldProblem> problems) {
        super(problems.stream().map(p -> "field '" + p.field() + "' " + p.message()).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<FieldProblem> problems() {
        return problems;
    }
}
