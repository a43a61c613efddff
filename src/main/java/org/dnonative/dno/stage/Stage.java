package org.dnonative.dno.stage;

/**
 * One step of a DNO run. A stage reads its inputs from the run store (files of earlier stages, and
 * policies on disk), writes its outputs there, and draws any randomness from
 * {@link org.dnonative.dno.Seeds#derive}: redoing it gives the files it gave before, so a run resumes
 * by skipping the stages whose marker exists. {@link org.dnonative.dno.DnoRun} writes the marker
 * after {@link #run} returns.
 */
public interface Stage {
    /** The marker's name, as in {@code iter-t/done/NAME} and {@code -Ddno.failAt=t:NAME}. */
    String name();

    /** Whether the stage has work in this run (the warm start only for the embedded model). */
    default boolean applies(RunContext run) {
        return true;
    }

    /**
     * Whether every rank of a distributed run takes part ({@link RunContext#cluster()}: each does its
     * shard and the results are gathered); otherwise rank 0 does the stage alone while the others
     * wait. Only rank 0 writes files either way.
     */
    default boolean sharded() {
        return false;
    }

    /** Does the stage's work for iteration {@code t} (0: the start). */
    void run(RunContext run, int t);
}
