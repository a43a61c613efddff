package org.dnonative.model.template;

/** An error while evaluating, before the interpreter adds the template name and line. */
final class EvalError extends RuntimeException {
    final boolean raised;

    EvalError(String message) { this(message, false); }

    EvalError(String message, boolean raised) {
        super(message, null, false, false);
        this.raised = raised;
    }
}
