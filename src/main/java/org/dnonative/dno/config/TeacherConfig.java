package org.dnonative.dno.config;

/**
 * The teacher's gold response added to each prompt's candidates.
 *
 * @param kind     auto (the prompt file's gold field, or the arithmetic solver for the built-in tasks),
 *                 prompt_file, builtin, endpoint (a teacher model answers the prompts without gold) or none
 * @param endpoint the teacher model, when kind is endpoint
 */
public record TeacherConfig(Kind kind, EndpointConfig endpoint) {
    public enum Kind { AUTO, PROMPT_FILE, BUILTIN, ENDPOINT, NONE }

    public TeacherConfig {
        new Checks().notNull(kind, "kind").notNull(endpoint, "endpoint")
                .require(kind != Kind.ENDPOINT || endpoint == null || endpoint.configured(), "endpoint",
                        "needs base_url and model when kind is endpoint")
                .throwIfAny();
    }

    public static TeacherConfig defaults() {
        return new TeacherConfig(Kind.AUTO, EndpointConfig.defaults());
    }
}
