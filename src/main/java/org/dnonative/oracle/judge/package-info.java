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
 */
package org.dnonative.oracle.judge;
