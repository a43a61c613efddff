package org.dnonative.dno;

/**
 * Called when a stage has written all of its files, just before its marker: the place where a crash
 * hurts most. Tests inject failures here; from the command line, the system property
 * {@code dno.failAt=ITERATION:STAGE} (e.g. {@code 2:train}) does the same.
 */
@FunctionalInterface
public interface StageHook {
    void beforeMarker(int iteration, String stage);

    StageHook NONE = (t, s) -> { };

    /** Fails at {@code dno.failAt} when that system property is set, otherwise does nothing. */
    static StageHook fromSystemProperty() {
        String at = System.getProperty("dno.failAt");
        if (at == null || at.isBlank()) return NONE;
        return (t, s) -> {
            if (at.equals(t + ":" + s)) throw new InjectedFailure("injected failure at iteration " + t + ", stage " + s);
        };
    }

    /** A deliberate crash. */
    final class InjectedFailure extends RuntimeException {
        public InjectedFailure(String message) {
            super(message);
        }
    }
}
