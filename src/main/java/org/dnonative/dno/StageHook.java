package org.dnonative.dno;

/**
 * Where tests inject faults into a run: {@link #beforeMarker} when a stage has written all of its
 * files, just before its marker (the place where a crash hurts most), and {@link #during} at every
 * progress step inside a stage (a crash with the stage half done). From the command line, the
 * system property {@code dno.failAt=ITERATION:STAGE} (e.g. {@code 2:train}) throws before that
 * marker, and {@code dno.haltAt=ITERATION:STAGE:STEP} ends the JVM at once, as kill -9 would (no
 * finally blocks, no shutdown hooks), at that progress step of the stage.
 */
@FunctionalInterface
public interface StageHook {
    void beforeMarker(int iteration, String stage);

    /** Called at each progress step of a running stage. */
    default void during(int iteration, String stage) {
    }

    StageHook NONE = (t, s) -> { };

    /** The faults the system properties {@code dno.failAt} and {@code dno.haltAt} ask for; none when they are unset. */
    static StageHook fromSystemProperty() {
        String failAt = System.getProperty("dno.failAt", "");
        String haltAt = System.getProperty("dno.haltAt", "");
        if (failAt.isBlank() && haltAt.isBlank()) return NONE;
        int cut = haltAt.lastIndexOf(':');
        String haltStage = cut < 0 ? haltAt : haltAt.substring(0, cut);
        int haltStep = cut < 0 ? 1 : Integer.parseInt(haltAt.substring(cut + 1));
        int[] steps = {0};
        return new StageHook() {
            @Override
            public void beforeMarker(int t, String s) {
                if (failAt.equals(t + ":" + s)) throw new InjectedFailure("injected failure at iteration " + t + ", stage " + s);
            }

            @Override
            public void during(int t, String s) {
                if (haltStage.equals(t + ":" + s) && ++steps[0] == haltStep) Runtime.getRuntime().halt(137);
            }
        };
    }

    /** A deliberate crash. */
    final class InjectedFailure extends RuntimeException {
        public InjectedFailure(String message) {
            super(message);
        }
    }
}
