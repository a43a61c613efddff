package org.dnonative.dno;

import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.config.EndpointConfig;
import org.dnonative.dno.config.OracleConfig;
import org.dnonative.dno.config.TeacherConfig;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.dno.stage.PromptPlan;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Everything about a new run that can be checked before its directory is made, so that a refused
 * run writes nothing: the input files parse, the model directory is one, the prompts suffice for the
 * iterations, the API-key variables are set, the thread count fits the machine, the directory is free.
 */
public final class Preflight {
    private Preflight() {}

    public static void check(DnoConfig c, Path root) {
        check(c, root, System::getenv, Runtime.getRuntime().availableProcessors());
    }

    static void check(DnoConfig c, Path root, Function<String, String> environment, int cpus) {
        if (c.threads() > cpus)
            throw new ConfigException("field 'threads' (" + c.threads() + ") is more than this machine's " + cpus + " processors");
        int total = c.prompts().builtin() ? EmbeddedModel.tasks(c.embedded()).all().size() : PromptFile.read(Path.of(c.prompts().file())).size();
        if (c.prompts().hasEvalFile()) PromptFile.read(Path.of(c.prompts().evalFile()));
        PromptPlan.of(c, total);
        if (!c.usesEmbeddedModel() && !Files.isRegularFile(Path.of(c.model(), "config.json")))
            throw new ConfigException("field 'model': " + c.model() + " is not a HuggingFace model directory (no config.json)");
        if (c.oracle().kind() == OracleConfig.Kind.JUDGE) apiKey(c.oracle().judge(), "oracle.judge.api_key_env", environment);
        if (c.teacher().kind() == TeacherConfig.Kind.ENDPOINT) apiKey(c.teacher().endpoint(), "teacher.endpoint.api_key_env", environment);
        if (!RunDirectory.isEmpty(root))
            throw new ConfigException(root + ": the run directory is not empty (use --resume " + root + " to continue that run)");
    }

    private static void apiKey(EndpointConfig e, String field, Function<String, String> environment) {
        if (e.apiKeyEnv() == null || e.apiKeyEnv().isBlank()) return;
        String key = environment.apply(e.apiKeyEnv());
        if (key == null || key.isEmpty())
            throw new ConfigException("field '" + field + "': the environment variable " + e.apiKeyEnv()
                    + " is not set (set it, or set the field to null for an endpoint that needs no key)");
    }
}
