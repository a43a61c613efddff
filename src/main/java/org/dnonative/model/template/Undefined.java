package org.dnonative.model.template;

/**
 * Jinja2's default Undefined: prints as "", is falsy, iterates as empty and has length 0, but any
 * attribute access, arithmetic or call on it fails (as in Python).
 */
final class Undefined {
    final String hint;

    Undefined(String hint) { this.hint = hint; }

    EvalError error() { return new EvalError(hint); }

    @Override public String toString() { return ""; }
}
