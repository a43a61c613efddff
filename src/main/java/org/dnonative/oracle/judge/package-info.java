/**
 * An LLM judge over an OpenAI-compatible {@code /v1/chat/completions} endpoint.
 *
 * <pre>{@code
 * JudgeConfig config = JudgeConfig.builder("http://localhost:8000/v1", "Qwen2.5-72B-Instruct")
 *         .apiKeyEnv("OPENAI_API_KEY")          // the variable's name; the key is never stored
 *         .concurrency(16)
 *         .cacheDir(runDir.resolve("judge-cache"))
 *         .build();
 * try (OpenAiJudge judge = OpenAiJudge.open(config)) { ... }
 * }</pre>
 * {@link org.dnonative.oracle.judge.ChatCompletionClient} does transport and retries,
 * {@link org.dnonative.oracle.judge.JudgmentCache} the crash-safe cache, the parsers read answers,
 * {@link org.dnonative.oracle.judge.OpenAiJudge} puts them together.
 *
 * <p>Transport: 429 and 503 wait for the server's Retry-After (seconds or an HTTP-date, capped),
 * other 5xx, 408, timeouts and dropped connections back off exponentially with jitter; any other
 * 4xx is not retried, except that a 400/422 refusing {@code logprobs} makes the judge ask again
 * without them and never ask for them again (pairwise verdicts are then hard: 0, 1/2 or 1). Retries
 * go on for as long as the endpoint has been failing for less than the patience (one clock per
 * endpoint); then the judgment is FAILED and the batch methods throw
 * {@link org.dnonative.oracle.judge.JudgeUnavailableException}. A refused request (4xx), or one the
 * endpoint keeps failing while it answers others, is UNUSABLE and not cached.
 * {@link org.dnonative.oracle.judge.EndpointCheck} is the one request a run sends before it starts.
 */
package org.dnonative.oracle.judge;
