package org.dnonative.oracle.judge;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

import org.dnonative.oracle.Candidate;
import org.dnonative.oracle.JudgmentStatus;
import org.dnonative.oracle.ListwiseJudgment;
import org.dnonative.oracle.ListwiseRequest;
import org.dnonative.oracle.OracleKind;
import org.dnonative.oracle.OracleStats;
import org.dnonative.oracle.PairwiseJudgment;
import org.dnonative.oracle.PairwiseRequest;
import org.dnonative.oracle.PreferenceOracle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An LLM judge behind any OpenAI-compatible chat-completions endpoint (a hosted model, vLLM,
 * llama.cpp's server, Ollama). Long because the two protocols (list-wise and pairwise) share its
 * request fan-out, retries, the judgment cache and the statistics; transport is in
 * {@link ChatCompletionClient}, parsing of answers in the protocol methods here.
 *
 * <ul>
 *   <li>List-wise, as in the DNO paper: one request per prompt shows all candidates, labelled A, B, …
 *       in an order shuffled by the shuffle seed and the content (recorded in the judgment), and
 *       asks for a score per label on the additive 0..6 rubric, as JSON.</li>
 *   <li>Pairwise: asks which of two responses is better, once in each order, and averages
 *       P(a ≻ b) = (P_ab(A) + 1 − P_ba(A)) / 2 to cancel position bias. Each order's P is soft
 *       (from the verdict token's log-probs) when the endpoint returns them, else 1, 0 or 1/2.
 *       If either order is unusable or failed, so is the pair.</li>
 * </ul>
 * Every request's answer is cached before it is returned (see {@link JudgmentCache}), unusable ones
 * included; failed transports are not, and neither are requests the endpoint refused (an HTTP 4xx:
 * unusable now, but a fixed endpoint would answer them). Identical requests in flight at once are
 * sent once. Transient failures are retried for as long as the endpoint's outage is shorter than
 * the patience ({@link RetryPolicy}); after that a judgment is FAILED, and the batch methods throw
 * {@link JudgeUnavailableException} rather than return a batch with judgments missing.
 */
public final class OpenAiJudge implements PreferenceOracle {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAiJudge.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_CANDIDATES = 26;
    /** Marks an entry that is returned but not cached (a refused request). */
    private static final String NOT_CACHED = "not_cached";

    private final JudgeConfig config;
    private final ChatCompletionClient client;
    private final JudgmentCache cache;
    private final JudgeCounters counters = new JudgeCounters();
    /** Set once the endpoint has refused {@code logprobs}: later pairwise requests go without. */
    private final AtomicBoolean logprobsRefused = new AtomicBoolean();
    private final Map<String, CompletableFuture<ObjectNode>> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService batchPool;

    private OpenAiJudge(JudgeConfig config, String apiKey) {
        this.config = config;
        this.client = new ChatCompletionClient(config.baseUrl(), apiKey, config.requestTimeout(),
                config.concurrency(), config.retry(), counters);
        this.cache = config.cacheDir() == null ? JudgmentCache.inMemory() : JudgmentCache.open(config.cacheDir(), config.cacheWriter());
        AtomicInteger threads = new AtomicInteger();
        this.batchPool = Executors.newFixedThreadPool(config.concurrency(), r -> {
            Thread t = new Thread(r, "judge-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Opens a judge, reading the API key from the process environment. */
    public static OpenAiJudge open(JudgeConfig config) {
        return open(config, System::getenv);
    }

    /**
     * Opens a judge, reading the API key through {@code environment} (a seam for tests and for
     * embedding applications with their own secret store).
     */
    public static OpenAiJudge open(JudgeConfig config, Function<String, String> environment) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(environment, "environment");
        String apiKey = null;
        if (config.apiKeyEnv() != null) {
            apiKey = environment.apply(config.apiKeyEnv());
            if (apiKey == null || apiKey.isBlank()) {
                throw new IllegalArgumentException("apiKeyEnv names the environment variable "
                        + config.apiKeyEnv() + ", which is not set");
            }
        }
        return new OpenAiJudge(config, apiKey);
    }

    public JudgeConfig config() {
        return config;
    }

    @Override
    public String name() {
        return "judge:" + config.model();
    }

    @Override
    public Set<OracleKind> kinds() {
        return config.kinds();
    }

    @Override
    public OracleStats stats() {
        return counters.snapshot();
    }

    // ---------------------------------------------------------------- list-wise

    @Override
    public ListwiseJudgment score(String prompt, List<Candidate> candidates) {
        requireKind(OracleKind.LISTWISE);
        ListwiseRequest request = new ListwiseRequest(prompt, candidates);
        if (candidates.size() > MAX_CANDIDATES) {
            throw new IllegalArgumentException("candidates must be at most " + MAX_CANDIDATES + ", was "
                    + candidates.size());
        }
        List<String> texts = candidates.stream().map(Candidate::text).toList();
        ObjectNode sampling = sampling(config.listwiseMaxTokens(), false);
        sampling.put("shuffle_seed", config.shuffleSeed());
        sampling.put("json_response_format", config.jsonResponseFormat());
        String key = CacheKeys.of("listwise", config.model(),
                List.of(config.templates().listwiseRubric(), config.templates().listwisePrompt().text()),
                request.prompt(), texts, sampling);
        ObjectNode entry = cachedOrAsk(key, () -> askListwise(request.prompt(), texts, key));
        return count(decodeListwise(entry, texts.size()));
    }

    private ObjectNode askListwise(String prompt, List<String> texts, String key) {
        int[] order = presentationOrder(texts.size(), key);
        List<String> labels = new ArrayList<>();
        StringBuilder shown = new StringBuilder();
        ObjectNode example = JSON.createObjectNode();
        for (int slot = 0; slot < order.length; slot++) {
            String label = String.valueOf((char) ('A' + slot));
            labels.add(label);
            example.put(label, 0);
            shown.append("<response label=\"").append(label).append("\">\n")
                    .append(texts.get(order[slot])).append("\n</response>\n\n");
        }
        Map<String, String> values = new HashMap<>();
        values.put("prompt", prompt);
        values.put("candidates", shown.toString().strip());
        values.put("rubric", config.templates().listwiseRubric());
        values.put("count", Integer.toString(texts.size()));
        values.put("labels", String.join(", ", labels));
        values.put("example", example.toString());
        ObjectNode body = body(config.templates().listwisePrompt().render(values), config.listwiseMaxTokens());
        if (config.jsonResponseFormat()) {
            body.putObject("response_format").put("type", "json_object");
        }
        ObjectNode entry = JSON.createObjectNode();
        entry.put("kind", "listwise");
        ArrayNode orderNode = entry.putArray("order");
        for (int i : order) {
            orderNode.add(i);
        }
        return askWithReasks(body, entry, reply -> {
            double[] byLabel = ListwiseAnswerParser.parse(reply.content(), labels, maxScore());
            double[] byCandidate = new double[texts.size()];
            for (int slot = 0; slot < order.length; slot++) {
                byCandidate[order[slot]] = byLabel[slot];
            }
            ArrayNode scores = JSON.createArrayNode();
            for (double s : byCandidate) {
                scores.add(s);
            }
            entry.set("scores", scores);
        });
    }

    /** Fisher-Yates, seeded by the cache key: the same request always shows the same order. */
    private static int[] presentationOrder(int n, String key) {
        long seed = Long.parseUnsignedLong(key.substring(0, 16), 16);
        SplittableRandom random = new SplittableRandom(seed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private static ListwiseJudgment decodeListwise(ObjectNode entry, int n) {
        String status = entry.path("status").asText();
        String detail = entry.path("detail").asText("");
        if (status.equals(JudgmentStatus.FAILED.name())) {
            return ListwiseJudgment.failed(detail);
        }
        if (status.equals(JudgmentStatus.UNUSABLE.name())) {
            return ListwiseJudgment.unusable(detail);
        }
        List<Double> scores = new ArrayList<>();
        entry.path("scores").forEach(s -> scores.add(s.asDouble()));
        List<Integer> order = new ArrayList<>();
        entry.path("order").forEach(o -> order.add(o.asInt()));
        if (scores.size() != n) {
            return ListwiseJudgment.unusable("cached entry has " + scores.size() + " scores for " + n + " candidates");
        }
        return ListwiseJudgment.ok(scores, order);
    }

    // ---------------------------------------------------------------- pairwise

    @Override
    public PairwiseJudgment compare(String prompt, Candidate first, Candidate second) {
        requireKind(OracleKind.PAIRWISE);
        PairwiseRequest request = new PairwiseRequest(prompt, first, second);
        ObjectNode forward = oneOrder(request.prompt(), first.text(), second.text());
        ObjectNode backward = oneOrder(request.prompt(), second.text(), first.text());
        for (JudgmentStatus bad : List.of(JudgmentStatus.FAILED, JudgmentStatus.UNUSABLE)) {
            for (ObjectNode e : List.of(forward, backward)) {
                if (e.path("status").asText().equals(bad.name())) {
                    String why = "one order was " + bad + ": " + e.path("detail").asText("");
                    return count(bad == JudgmentStatus.FAILED ? PairwiseJudgment.failed(why)
                            : PairwiseJudgment.unusable(why));
                }
            }
        }
        double pForward = forward.path("p").asDouble();
        double pBackward = backward.path("p").asDouble();
        double p = (pForward + 1 - pBackward) / 2;
        return count(PairwiseJudgment.ok(p, String.format("first shown first: %.4f, first shown second: %.4f%s",
                pForward, 1 - pBackward, forward.path("soft").asBoolean() ? " (soft)" : "")));
    }

    /** P(shown-as-A ≻ shown-as-B) for one order, as a cache entry. */
    private ObjectNode oneOrder(String prompt, String shownA, String shownB) {
        ObjectNode sampling = sampling(config.pairwiseMaxTokens(), config.pairwiseLogprobs());
        String key = CacheKeys.of("pairwise", config.model(), List.of(config.templates().pairwisePrompt().text()),
                prompt, List.of(shownA, shownB), sampling);
        return cachedOrAsk(key, () -> {
            ObjectNode body = body(config.templates().pairwisePrompt().render(
                    Map.of("prompt", prompt, "response_a", shownA, "response_b", shownB)), config.pairwiseMaxTokens());
            if (config.pairwiseLogprobs() && !logprobsRefused.get()) {
                body.put("logprobs", true);
                body.put("top_logprobs", 5);
            }
            ObjectNode entry = JSON.createObjectNode();
            entry.put("kind", "pairwise");
            return askWithReasks(body, entry, reply -> {
                PairwiseVerdictParser.Verdict v = PairwiseVerdictParser.parse(reply.content(), reply.logprobs());
                entry.put("p", v.probabilityAWins());
                entry.put("soft", v.soft());
            });
        });
    }

    // ---------------------------------------------------------------- batches

    /**
     * Scores the batch with up to {@code concurrency} prompts in flight.
     *
     * @throws JudgeUnavailableException when the endpoint failed for longer than the patience: the
     *         judgments that could be had are cached, the rest were not asked
     */
    @Override
    public List<ListwiseJudgment> scoreAll(List<ListwiseRequest> requests) {
        return inParallel(requests, r -> score(r.prompt(), r.candidates()), ListwiseJudgment::status,
                ListwiseJudgment::detail, ListwiseJudgment::failed);
    }

    /**
     * Compares the batch with up to {@code concurrency} pairs in flight.
     *
     * @throws JudgeUnavailableException as {@link #scoreAll}
     */
    @Override
    public List<PairwiseJudgment> compareAll(List<PairwiseRequest> requests) {
        return inParallel(requests, r -> compare(r.prompt(), r.first(), r.second()), PairwiseJudgment::status,
                PairwiseJudgment::detail, PairwiseJudgment::failed);
    }

    /**
     * Runs the batch; once one judgment has FAILED (the endpoint has been down for the whole
     * patience) the requests not yet started are not sent, and the batch throws after the ones in
     * flight are done (and cached): an outage is not a per-item problem, and a caller that went on
     * would lose those judgments for good.
     */
    private <R, J> List<J> inParallel(List<R> requests, Function<R, J> judge, Function<J, JudgmentStatus> status,
                                      Function<J, String> detail, Function<String, J> notAsked) {
        Objects.requireNonNull(requests, "requests");
        AtomicReference<String> outage = new AtomicReference<>();
        List<Future<J>> futures = new ArrayList<>(requests.size());
        for (R r : requests) {
            futures.add(batchPool.submit(() -> {
                if (outage.get() != null) {
                    return notAsked.apply("not asked: the endpoint is down");
                }
                J j = judge.apply(r);
                if (status.apply(j) == JudgmentStatus.FAILED) {
                    outage.compareAndSet(null, detail.apply(j));
                }
                return j;
            }));
        }
        List<J> out = new ArrayList<>(requests.size());
        try {
            for (Future<J> f : futures) {
                out.add(f.get());
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new JudgeTransportException("interrupted while judging a batch", e);
        } catch (java.util.concurrent.ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
        if (outage.get() != null) {
            long missing = out.stream().filter(j -> status.apply(j) == JudgmentStatus.FAILED).count();
            throw new JudgeUnavailableException(name() + " at " + config.baseUrl() + ": " + missing + " of " + out.size()
                    + " judgments of a batch could not be had (" + outage.get() + ")", (int) missing, out.size());
        }
        return out;
    }

    // ---------------------------------------------------------------- shared machinery

    private interface AnswerReader {
        void read(ChatReply reply) throws MalformedAnswerException;
    }

    /**
     * Sends {@code body}; a malformed answer is asked again up to {@code malformedReasks} times, then
     * the entry is marked UNUSABLE. A transport failure marks it FAILED (and it will not be cached).
     */
    private ObjectNode askWithReasks(ObjectNode body, ObjectNode entry, AnswerReader reader) {
        String lastProblem = "";
        for (int ask = 0; ask <= config.malformedReasks(); ask++) {
            ChatReply reply;
            try {
                reply = client.complete(body);
            } catch (JudgeTransportException.Rejected e) {
                if (body.has("logprobs") && refusesLogprobs(e)) {
                    // Some OpenAI-compatible servers do not return log-probs: ask again without them
                    // (a hard verdict), and stop asking for them for the rest of this judge's life.
                    if (logprobsRefused.compareAndSet(false, true))
                        LOG.warn("{} refuses logprobs (HTTP {}); pairwise verdicts are hard (0, 1/2, 1) from now on",
                                config.model(), e.status());
                    body.remove("logprobs");
                    body.remove("top_logprobs");
                    ask--;  // the same ask again; it can happen once, since the fields are gone
                    continue;
                }
                // The endpoint is up and refuses the request (a wrong model name, a bad key, a prompt too
                // long for it): unusable, but not cached, since a fixed endpoint would answer it.
                LOG.debug("judge request refused: {}", e.getMessage());
                return entry.put("status", JudgmentStatus.UNUSABLE.name()).put("detail", e.getMessage())
                        .put(NOT_CACHED, true);
            } catch (JudgeTransportException e) {
                LOG.warn("no judgment: {}", e.getMessage());
                return entry.put("status", JudgmentStatus.FAILED.name()).put("detail", e.getMessage());
            } catch (MalformedAnswerException e) {
                counters.malformedAnswers.incrementAndGet();
                lastProblem = e.getMessage();
                continue;
            }
            entry.put("answer", reply.content());
            try {
                reader.read(reply);
                return entry.put("status", JudgmentStatus.OK.name());
            } catch (MalformedAnswerException e) {
                counters.malformedAnswers.incrementAndGet();
                lastProblem = e.getMessage();
            }
        }
        return entry.put("status", JudgmentStatus.UNUSABLE.name())
                .put("detail", "malformed after " + (config.malformedReasks() + 1) + " asks: " + lastProblem);
    }

    /** A 400/422 whose body names the log-prob parameters: the server does not offer them. */
    private static boolean refusesLogprobs(JudgeTransportException.Rejected e) {
        return (e.status() == 400 || e.status() == 422) && e.body().toLowerCase(java.util.Locale.ROOT).contains("logprob");
    }

    /** The cached entry for {@code key}, or asks (once, even when several threads want it). */
    private ObjectNode cachedOrAsk(String key, Supplier<ObjectNode> ask) {
        var hit = cache.get(key);
        if (hit.isPresent()) {
            counters.cacheHits.incrementAndGet();
            return hit.get();
        }
        CompletableFuture<ObjectNode> mine = new CompletableFuture<>();
        CompletableFuture<ObjectNode> theirs = inFlight.putIfAbsent(key, mine);
        if (theirs != null) {
            counters.cacheHits.incrementAndGet();
            return theirs.join().deepCopy();
        }
        try {
            // Another thread may have finished and left the in-flight map between our two looks.
            hit = cache.get(key);
            ObjectNode entry;
            if (hit.isPresent()) {
                counters.cacheHits.incrementAndGet();
                entry = hit.get();
            } else {
                entry = ask.get();
                if (!JudgmentStatus.FAILED.name().equals(entry.path("status").asText()) && !entry.has(NOT_CACHED)) {
                    cache.put(key, entry);
                }
            }
            mine.complete(entry);
            return entry.deepCopy();
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    private ObjectNode body(String userMessage, int maxTokens) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", config.model());
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "user").put("content", userMessage);
        body.put("temperature", config.temperature());
        body.put("max_tokens", maxTokens);
        return body;
    }

    private ObjectNode sampling(int maxTokens, boolean logprobs) {
        ObjectNode s = JSON.createObjectNode();
        s.put("temperature", config.temperature());
        s.put("max_tokens", maxTokens);
        s.put("logprobs", logprobs);
        s.put("top_logprobs", logprobs ? 5 : 0);
        return s;
    }

    private void requireKind(OracleKind kind) {
        if (!answers(kind)) {
            throw new UnsupportedOperationException(name() + " is configured without " + kind);
        }
    }

    private ListwiseJudgment count(ListwiseJudgment j) {
        countStatus(j.status());
        return j;
    }

    private PairwiseJudgment count(PairwiseJudgment j) {
        countStatus(j.status());
        return j;
    }

    private void countStatus(JudgmentStatus status) {
        counters.judgments.incrementAndGet();
        if (status == JudgmentStatus.UNUSABLE) {
            counters.unusable.incrementAndGet();
        } else if (status == JudgmentStatus.FAILED) {
            counters.failures.incrementAndGet();
        }
    }

    /** Stops the batch threads and closes the cache file. */
    @Override
    public void close() {
        batchPool.shutdownNow();
        cache.close();
    }

    /** For tests: the number of entries the cache holds. */
    int cachedEntries() {
        return cache.size();
    }
}
