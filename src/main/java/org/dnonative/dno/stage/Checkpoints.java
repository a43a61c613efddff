package org.dnonative.dno.stage;

import org.dnonative.dno.config.DnoConfig;

/** How checkpoints are saved. */
final class Checkpoints {
    private Checkpoints() {}

    /** The dtype name {@link org.dnonative.model.Policy#save(java.nio.file.Path, String)} takes. */
    static String dtype(DnoConfig c) {
        return c.saveDtype().name().toLowerCase();
    }
}
