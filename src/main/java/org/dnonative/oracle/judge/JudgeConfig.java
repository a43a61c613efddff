package org.dnonative.oracle.judge;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

import org.dnonative.oracle.OracleKind;

/**
 * Settings of an {@link OpenAiJudge}. Holds the <em>name</em> of the environment variable with the
 * API key, never the key itself, so a config can be logged or saved with a run.
 *
 * @param baseUrl            the API root, e.g. {@code https://api.openai.com/v1} or
 *                           {@code http://localhost:8000/v1}; requests go to {@code baseUrl/chat/completions}
 * @param model              the judge model's name
 * @param apiKeyEnv          the environment variable holding the API key; null sends no Authorization
 * @param requestTimeout     how long one attempt may take, from sending to the full response
 * @param concurrency        at most this many requests in flight at once
 * @param retry              retries of timeouts, dropped connections, 429 and 5xx, within its patience
 * @param malformedReasks    how often a malformed answer is asked again before it is recorded unusable
 * @param temperature        sampling temperature of the judge
 * @param listwiseMaxTokens  max_tokens of a list-wise request
 * @param pairwiseMaxTokens  max_tokens of a pairwise request (the verdict is one word)
 * @param pairwiseLogprobs   request verdict log-probs ({@code logprobs: true, top_logprobs: 5}) for a soft P
 * @param jsonResponseFormat send {@code response_format: {type: json_object}} with list-wise requests
 * @param shuffleSeed        seeds the order in which candidates are shown
 * @param kinds              the kinds of answer this judge gives
 * @param templates          the rubric and prompt templates
 * @param cacheDir           the directory of the judgment cache (in the run directory); null keeps it in memory
 * @param cacheWriter        null: this judge appends to the cache's main file; else to a file of its own
 *                           ({@link JudgmentCache#open(Path, String)}), as ranks other than 0 of a distributed run do
 */
public record JudgeConfig(URI baseUrl, String model, String apiKeyEnv, Duration requestTimeout, int concurrency,
                          RetryPolicy retry, int malformedReasks, double temperature, int listwiseMaxTokens,
                          int pairwiseMaxTokens, boolean pairwiseLogprobs, boolean jsonResponseFormat,
                          long shuffleSeed, Set<OracleKind> kinds, JudgeTemplates templates, Path cacheDir, String cacheWriter) {

    public JudgeConfig {
        Objects.requireNonNull(baseUrl, "baseUrl");
        String scheme = baseUrl.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new IllegalArgumentException("baseUrl must be an http or https URL, was " + baseUrl);
        }
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("model must not be blank");
        }
        if (apiKeyEnv != null && apiKeyEnv.isBlank()) {
            throw new IllegalArgumentException("apiKeyEnv must be null or a variable name");
        }
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1, was " + concurrency);
        }
        Objects.requireNonNull(retry, "retry");
        if (malformedReasks < 0) {
            throw new IllegalArgumentException("malformedReasks must be >= 0, was " + malformedReasks);
        }
        if (!(temperature >= 0 && temperature <= 2)) {
            throw new IllegalArgumentException("temperature must be in [0, 2], was " + temperature);
        }
        if (listwiseMaxTokens < 1) {
            throw new IllegalArgumentException("listwiseMaxTokens must be >= 1, was " + listwiseMaxTokens);
        }
        if (pairwiseMaxTokens < 1) {
            throw new IllegalArgumentException("pairwiseMaxTokens must be >= 1, was " + pairwiseMaxTokens);
        }
        if (kinds == null || kinds.isEmpty()) {
            throw new IllegalArgumentException("kinds must name at least one OracleKind");
        }
        kinds = Set.copyOf(kinds);
        Objects.requireNonNull(templates, "templates");
    }

    public static Builder builder(String baseUrl, String model) {
        return new Builder(baseUrl, model);
    }

    /** Defaults: no API key, 60 s timeout, 8 in flight, retries for up to 10 minutes of outage, 2 re-asks, temperature 0. */
    public static final class Builder {
        private final URI baseUrl;
        private final String model;
        private String apiKeyEnv;
        private Duration requestTimeout = Duration.ofSeconds(60);
        private int concurrency = 8;
        private RetryPolicy retry = RetryPolicy.defaults();
        private int malformedReasks = 2;
        private double temperature = 0.0;
        private int listwiseMaxTokens = 256;
        private int pairwiseMaxTokens = 4;
        private boolean pairwiseLogprobs = true;
        private boolean jsonResponseFormat;
        private long shuffleSeed;
        private Set<OracleKind> kinds = EnumSet.allOf(OracleKind.class);
        private JudgeTemplates templates;
        private Path cacheDir;
        private String cacheWriter;

        private Builder(String baseUrl, String model) {
            if (baseUrl == null) {
                throw new IllegalArgumentException("baseUrl must not be null");
            }
            try {
                this.baseUrl = URI.create(baseUrl);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("baseUrl is not a URL: " + baseUrl, e);
            }
            this.model = model;
        }

        public Builder apiKeyEnv(String v) { apiKeyEnv = v; return this; }
        public Builder requestTimeout(Duration v) { requestTimeout = v; return this; }
        public Builder concurrency(int v) { concurrency = v; return this; }
        public Builder retry(RetryPolicy v) { retry = v; return this; }
        public Builder malformedReasks(int v) { malformedReasks = v; return this; }
        public Builder temperature(double v) { temperature = v; return this; }
        public Builder listwiseMaxTokens(int v) { listwiseMaxTokens = v; return this; }
        public Builder pairwiseMaxTokens(int v) { pairwiseMaxTokens = v; return this; }
        public Builder pairwiseLogprobs(boolean v) { pairwiseLogprobs = v; return this; }
        public Builder jsonResponseFormat(boolean v) { jsonResponseFormat = v; return this; }
        public Builder shuffleSeed(long v) { shuffleSeed = v; return this; }
        public Builder kinds(Set<OracleKind> v) { kinds = v; return this; }
        public Builder templates(JudgeTemplates v) { templates = v; return this; }
        public Builder cacheDir(Path v) { cacheDir = v; return this; }
        public Builder cacheWriter(String v) { cacheWriter = v; return this; }

        public JudgeConfig build() {
            return new JudgeConfig(baseUrl, model, apiKeyEnv, requestTimeout, concurrency, retry,
                    malformedReasks, temperature, listwiseMaxTokens, pairwiseMaxTokens, pairwiseLogprobs,
                    jsonResponseFormat, shuffleSeed, kinds,
                    templates == null ? JudgeTemplates.defaults() : templates, cacheDir, cacheWriter);
        }
    }
}
