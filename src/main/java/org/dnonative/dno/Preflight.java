package org.dnonative.dno;

import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.config.EndpointConfig;
import org.dnonative.dno.config.OracleConfig;
import org.dnonative.dno.config.TeacherConfig;
import org.dnonative.dno.embedded.EmbeddedModel;
import org.dnonative.dno.stage.PromptPlan;
import org.dnonative.model.ModelConfig;
import org.dnonative.model.ModelException;
import org.dnonative.oracle.judge.EndpointCheck;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Everything about a new run that can be checked before its directory is made, so that a refused
 * run writes nothing: the input files parse, the model directory is one, the prompts suffice for the
 * iterations, the API-key variables are set, the thread count fits the machine, a CUDA device is
 * there when asked for, max_new_tokens fits the model's positions, the directory is free,
 * and the judge and teacher endpoints answer one request with a chat completion.
 */
public final class Preflight {
    private Preflight() {}

    public static void check(DnoConfig c, Path root) {
        check(c, root, System::getenv, Runtime.getRuntime().availableProcessors());
    }

    static void check(DnoConfig c, Path root, Function<String, String> environment, int cpus) {
        check(c, root, environment, cpus, Preflight::cudaAvailable);
    }

    static void check(DnoConfig c, Path root, Function<String, String> environment, int cpus, BooleanSupplier cuda) {
        machine(c, cpus, cuda);
        sequenceLengths(c);
        int total = c.prompts().builtin() ? EmbeddedModel.tasks(c.embedded()).all().size() : PromptFile.read(Path.of(c.prompts().file())).size();
        if (c.prompts().hasEvalFile()) PromptFile.read(Path.of(c.prompts().evalFile()));
        PromptPlan.of(c, total);
        if (!c.usesEmbeddedModel() && !Files.isRegularFile(Path.of(c.model(), "config.json")))
            throw new ConfigException("field 'model': " + c.model() + " is not a HuggingFace model directory (no config.json)");
        if (c.oracle().kind() == OracleConfig.Kind.JUDGE) apiKey(c.oracle().judge(), "oracle.judge.api_key_env", environment);
        if (c.teacher().kind() == TeacherConfig.Kind.ENDPOINT) apiKey(c.teacher().endpoint(), "teacher.endpoint.api_key_env", environment);
        if (!RunDirectory.isEmpty(root))
            throw new ConfigException(root + ": the run directory is not empty (use --resume " + root + " to continue that run)");
        endpoints(c, environment);
    }

    /**
     * One request to each endpoint the run will use (the judge, the teacher), so that a wrong URL,
     * model name or key stops the run before any stage, not as a stage full of refused requests.
     */
    public static void endpoints(DnoConfig c, Function<String, String> environment) {
        endpoints(c, environment, true, true);
    }

    /** {@link #endpoints(DnoConfig, Function)} for the endpoints a (resumed) run still needs. */
    public static void endpoints(DnoConfig c, Function<String, String> environment, boolean judgeNeeded, boolean teacherNeeded) {
        boolean judge = judgeNeeded && c.oracle().kind() == OracleConfig.Kind.JUDGE;
        if (judge) probe(c.oracle().judge(), "oracle.judge", environment);
        if (teacherNeeded && c.teacher().kind() == TeacherConfig.Kind.ENDPOINT
                && !(judge && sameEndpoint(c.oracle().judge(), c.teacher().endpoint())))
            probe(c.teacher().endpoint(), "teacher.endpoint", environment);
    }

    private static boolean sameEndpoint(EndpointConfig a, EndpointConfig b) {
        return a.baseUrl().equals(b.baseUrl()) && a.model().equals(b.model()) && java.util.Objects.equals(a.apiKeyEnv(), b.apiKeyEnv());
    }

    private static void probe(EndpointConfig e, String section, Function<String, String> environment) {
        String key = e.apiKeyEnv() == null || e.apiKeyEnv().isBlank() ? null : environment.apply(e.apiKeyEnv());
        try {
            EndpointCheck.check(e.baseUrl(), e.model(), key, e.timeout());
        } catch (EndpointCheck.Failure f) {
            String field = switch (f.setting()) {
                case BASE_URL -> "base_url";
                case MODEL -> "model";
                case API_KEY -> "api_key_env";
            };
            throw new ConfigException("field '" + section + "." + field + "': " + f.getMessage());
        }
    }

    /**
     * What this machine must offer the run: no more threads than processors, and a CUDA device when
     * asked for. Also for where the rest of {@link #check} does not apply (a resumed run, eval).
     */
    public static void machine(DnoConfig c) {
        machine(c, Runtime.getRuntime().availableProcessors(), Preflight::cudaAvailable);
    }

    static void machine(DnoConfig c, int cpus, BooleanSupplier cuda) {
        if (c.threads() > cpus)
            throw new ConfigException("field 'threads' (" + c.threads() + ") is more than this machine's " + cpus + " processors");
        if (c.device().startsWith("cuda") && !cuda.getAsBoolean())
            throw new ConfigException("field 'device' (" + c.device() + "): no CUDA device is available here "
                    + "(no driver or no GPU, or a libtorch without CUDA); use cpu");
    }

    /**
     * The sampled lengths against the model's positions (config.json, or the embedded model's),
     * before a sampler allocates buffers of max_new_tokens for each sequence. A prompt's own length
     * is known only once it is tokenized; at least one prompt token must fit.
     */
    private static void sequenceLengths(DnoConfig c) {
        if (!c.usesEmbeddedModel() && !Files.isRegularFile(Path.of(c.model(), "config.json"))) return;  // refused below
        ModelConfig m;
        try {
            m = c.usesEmbeddedModel() ? EmbeddedModel.modelConfig(c.embedded()) : ModelConfig.load(Path.of(c.model()));
        } catch (ModelException e) {
            throw new ConfigException("field 'model': " + e.getMessage(), e);
        }
        if (c.sampling().maxNewTokens() >= m.maxPositionEmbeddings())
            throw new ConfigException("field 'sampling.max_new_tokens' (" + c.sampling().maxNewTokens() + ") leaves no room for a prompt in the "
                    + "model's max_position_embeddings (" + m.maxPositionEmbeddings() + ")");
    }

    private static boolean cudaAvailable() {
        return org.bytedeco.pytorch.global.torch.cuda_is_available();
    }

    private static void apiKey(EndpointConfig e, String field, Function<String, String> environment) {
        if (e.apiKeyEnv() == null || e.apiKeyEnv().isBlank()) return;
        String key = environment.apply(e.apiKeyEnv());
        if (key == null || key.isEmpty())
            throw new ConfigException("field '" + field + "': the environment variable " + e.apiKeyEnv()
                    + " is not set (set it, or set the field to null for an endpoint that needs no key)");
    }
}
