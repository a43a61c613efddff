package org.dnonative.oracle.judge;

import static org.dnonative.oracle.judge.ScriptedChatServer.JSON;
import static org.dnonative.oracle.judge.ScriptedChatServer.answer;
import static org.dnonative.oracle.judge.ScriptedChatServer.dropMidResponse;
import static org.dnonative.oracle.judge.ScriptedChatServer.shownResponses;
import static org.dnonative.oracle.judge.ScriptedChatServer.sleepThen;
import static org.dnonative.oracle.judge.ScriptedChatServer.status;
import static org.dnonative.oracle.judge.ScriptedChatServer.userMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import org.dnonative.oracle.Candidate;
import org.dnonative.oracle.JudgmentStatus;
import org.dnonative.oracle.ListwiseJudgment;
import org.dnonative.oracle.ListwiseRequest;
import org.dnonative.oracle.OracleStats;
import org.dnonative.oracle.PairwiseJudgment;
import org.dnonative.oracle.PairwiseRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

class OpenAiJudgeTest {

    private static final String SECRET = "sk-test-5ecret-never-on-disk";
    private static final Function<String, String> ENV = Map.of("JUDGE_KEY", SECRET)::get;
    private static final List<Candidate> SIX = List.of(Candidate.sample("r0"), Candidate.sample("r1"),
            Candidate.sample("r2"), Candidate.sample("r3"), Candidate.sample("r4"), Candidate.gold("r5"));

    @TempDir
    Path runDir;
    private ScriptedChatServer server;

    @BeforeEach
    void startServer() throws IOException {
        server = new ScriptedChatServer();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    private JudgeConfig.Builder config() {
        return JudgeConfig.builder(server.baseUrl(), "judge-model")
                .apiKeyEnv("JUDGE_KEY")
                .requestTimeout(Duration.ofSeconds(5))
                .concurrency(4)
                .retry(new RetryPolicy(4, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(2)))
                .malformedReasks(2)
                .cacheDir(runDir.resolve("judge-cache"));
    }

    private OpenAiJudge open(JudgeConfig.Builder config) {
        return OpenAiJudge.open(config.build(), ENV);
    }

    /** A judge that scores a response "rN" with N, whatever position it is shown in. */
    private static ScriptedChatServer.Action scoreByText(JsonNode request) {
        ObjectNode scores = JSON.createObjectNode();
        shownResponses(request).forEach((label, text) -> scores.put(label, Integer.parseInt(text.substring(1))));
        return answer("Here you go:\n```json\n" + scores + "\n```");
    }

    /** A judge that prefers the response "good", wherever it is shown. */
    private static ScriptedChatServer.Action prefersGood(JsonNode request) {
        return answer("good".equals(shownResponses(request).get("A")) ? "A" : "B");
    }

    // ------------------------------------------------------------ list-wise

    @Test
    void listwiseScoresComeBackInCandidateOrderWhateverTheShuffle() {
        server.otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config())) {
            ListwiseJudgment j = judge.score("Explain DNO.", SIX);
            assertEquals(JudgmentStatus.OK, j.status(), j.detail());
            assertEquals(List.of(0.0, 1.0, 2.0, 3.0, 4.0, 5.0), j.scores());
            List<Integer> order = j.presentationOrder();
            assertEquals(List.of(0, 1, 2, 3, 4, 5), order.stream().sorted().toList());
            assertNotEquals(List.of(0, 1, 2, 3, 4, 5), order, "candidates are shown shuffled");
            JsonNode request = server.requests.get(0);
            List<String> shownTexts = new ArrayList<>(shownResponses(request).values());
            assertEquals(order.stream().map(i -> "r" + i).toList(), shownTexts, "the recorded order is the shown one");
            assertTrue(userMessage(request).contains("additive 6-point"), "the rubric is in the prompt");
            assertTrue(userMessage(request).contains("Explain DNO."));
            assertEquals("judge-model", request.path("model").asText());
            assertEquals(256, request.path("max_tokens").asInt());
            OracleStats stats = judge.stats();
            assertEquals(1, stats.requests());
            assertEquals(100, stats.promptTokens());
            assertEquals(7, stats.completionTokens());
            assertEquals(0, stats.retries());
        }
        // The order is a function of the request and the seed: reproducible, and a new seed changes it.
        try (OpenAiJudge same = open(config().cacheDir(null));
             OpenAiJudge reseeded = open(config().cacheDir(null).shuffleSeed(42))) {
            List<Integer> first = new ArrayList<>(shownResponses(server.requests.get(0)).values().stream()
                    .map(t -> Integer.parseInt(t.substring(1))).toList());
            assertEquals(first, same.score("Explain DNO.", SIX).presentationOrder());
            assertNotEquals(first, reseeded.score("Explain DNO.", SIX).presentationOrder());
        }
    }

    @Test
    void malformedAnswersAreAskedAgain() {
        server.then(answer("I think A is the best."), answer("{\"A\": 7, \"B\": 1}"))
                .otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config())) {
            ListwiseJudgment j = judge.score("p", List.of(Candidate.sample("r1"), Candidate.sample("r4")));
            assertEquals(List.of(1.0, 4.0), j.scores());
            assertEquals(3, server.requestCount());
            assertEquals(2, judge.stats().malformedAnswers());
            assertEquals(0, judge.stats().retries());
        }
    }

    @Test
    void alwaysMalformedIsUnusableAndCachedSoNeverPaidTwice() {
        server.otherwise(request -> answer("{\"A\": \"excellent\"}"));
        try (OpenAiJudge judge = open(config())) {
            ListwiseJudgment j = judge.score("p", List.of(Candidate.sample("r1"), Candidate.sample("r2")));
            assertEquals(JudgmentStatus.UNUSABLE, j.status());
            assertTrue(j.detail().contains("malformed after 3 asks"), j.detail());
            assertEquals(3, server.requestCount());
            assertEquals(JudgmentStatus.UNUSABLE, judge.score("p", List.of(Candidate.sample("r1"),
                    Candidate.sample("r2"))).status());
            assertEquals(3, server.requestCount());
            assertEquals(2, judge.stats().unusable());
        }
        try (OpenAiJudge again = open(config())) {
            assertEquals(JudgmentStatus.UNUSABLE, again.score("p", List.of(Candidate.sample("r1"),
                    Candidate.sample("r2"))).status());
            assertEquals(3, server.requestCount());
            assertEquals(1, again.stats().cacheHits());
        }
    }

    @Test
    void notJsonAtTheHttpLevelIsMalformedToo() {
        server.then(status(200, null, "<html>gateway</html>")).otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config())) {
            assertEquals(List.of(3.0), judge.score("p", List.of(Candidate.sample("r3"))).scores());
            assertEquals(1, judge.stats().malformedAnswers());
        }
    }

    // ------------------------------------------------------------ transport

    @Test
    void timeoutsAreRetried() {
        server.then(sleepThen(1000, answer("{\"A\": 1}"))).otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config().requestTimeout(Duration.ofMillis(200)))) {
            ListwiseJudgment j = judge.score("p", List.of(Candidate.sample("r5")));
            assertEquals(List.of(5.0), j.scores(), j.detail());
            assertTrue(judge.stats().retries() >= 1);
            assertTrue(server.requestCount() >= 2);
        }
    }

    @Test
    void rateLimitHonoursRetryAfter() {
        server.then(status(429, "1", "{\"error\":\"slow down\"}")).otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config())) {
            long start = System.nanoTime();
            ListwiseJudgment j = judge.score("p", List.of(Candidate.sample("r2")));
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(List.of(2.0), j.scores());
            assertTrue(elapsedMillis >= 950, "waited only " + elapsedMillis + " ms despite Retry-After: 1");
            assertEquals(1, judge.stats().retries());
            assertEquals(2, server.requestCount());
        }
    }

    @Test
    void rateLimitHonoursAnHttpDateRetryAfter() {
        // RFC 9110's other form: a date two seconds from now (whole seconds, so at least 1 s ahead).
        String at = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
                java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(2));
        server.then(status(503, at, "{\"error\":\"overloaded\"}")).otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config())) {
            long start = System.nanoTime();
            assertEquals(List.of(3.0), judge.score("p", List.of(Candidate.sample("r3"))).scores());
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(elapsedMillis >= 950, "waited only " + elapsedMillis + " ms despite Retry-After: " + at);
            assertEquals(1, judge.stats().retries());
        }
    }

    @Test
    void anEndpointWithoutLogprobsGetsHardVerdictsAndIsNotAskedAgain() {
        // Like servers that do not offer log-probs: a 400 naming the parameter.
        server.otherwise(request -> request.has("logprobs")
                ? status(400, null, "{\"error\":{\"message\":\"logprobs is not supported for this model\"}}")
                : prefersGood(request));
        try (OpenAiJudge judge = open(config())) {
            PairwiseJudgment j = judge.compare("q", Candidate.sample("good"), Candidate.sample("bad"));
            assertEquals(JudgmentStatus.OK, j.status(), j.detail());
            assertEquals(1.0, j.probabilityFirstWins());
            assertFalse(j.detail().contains("soft"), j.detail());
            // One refused request, then both orders without logprobs; later pairs never ask for them.
            assertEquals(3, server.requestCount());
            assertEquals(1.0, judge.compare("q2", Candidate.sample("good"), Candidate.sample("meh")).probabilityFirstWins());
            assertEquals(5, server.requestCount());
            for (int i = 1; i < 5; i++) assertFalse(server.requests.get(i).has("logprobs"), "request " + i);
        }
    }

    @Test
    void otherRejectionsAreNotRetriedWithoutLogprobs() {
        server.otherwise(request -> status(400, null, "{\"error\":\"model not found\"}"));
        try (OpenAiJudge judge = open(config())) {
            PairwiseJudgment j = judge.compare("q", Candidate.sample("good"), Candidate.sample("bad"));
            assertEquals(JudgmentStatus.UNUSABLE, j.status(), j.detail());
            assertTrue(j.detail().contains("model not found"), j.detail());
            assertTrue(server.requests.get(0).has("logprobs"));
            assertTrue(server.requestCount() <= 2, "a 400 is not retried: " + server.requestCount());
        }
    }

    @Test
    void serverErrorsAreRetried() {
        server.then(status(500, null, null), status(503, null, null), status(502, null, null))
                .otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config())) {
            assertEquals(List.of(6.0), judge.score("p", List.of(Candidate.sample("r6"))).scores());
            assertEquals(3, judge.stats().retries());
            assertEquals(4, judge.stats().requests());
        }
    }

    @Test
    void aConnectionDroppedMidResponseIsRetried() {
        server.then(dropMidResponse()).otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = open(config())) {
            assertEquals(List.of(4.0), judge.score("p", List.of(Candidate.sample("r4"))).scores());
            assertEquals(1, judge.stats().retries());
            assertEquals(2, server.requestCount());
        }
    }

    @Test
    void exhaustedRetriesFailWithoutBeingCached() {
        server.otherwise(request -> status(500, null, null));
        JudgeConfig.Builder config = config().retry(new RetryPolicy(2, Duration.ofMillis(1), Duration.ofMillis(2),
                Duration.ofSeconds(1)));
        List<Candidate> one = List.of(Candidate.sample("r3"));
        try (OpenAiJudge judge = open(config)) {
            ListwiseJudgment j = judge.score("p", one);
            assertEquals(JudgmentStatus.FAILED, j.status());
            assertTrue(j.detail().contains("gave up after 3 attempts"), j.detail());
            assertEquals(3, server.requestCount());
            assertEquals(1, judge.stats().failures());
        }
        server.otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge resumed = open(config)) {
            assertEquals(List.of(3.0), resumed.score("p", one).scores());
            assertEquals(4, server.requestCount(), "a failure is asked again on resume");
        }
    }

    /** A refusal is the endpoint's answer: unusable, not retried, and not cached (a fixed endpoint would answer). */
    @Test
    void clientErrorsAreUnusableNotRetriedAndNotCached() {
        server.otherwise(request -> status(400, null, "{\"error\":\"bad model\"}"));
        try (OpenAiJudge judge = open(config())) {
            ListwiseJudgment j = judge.score("p", List.of(Candidate.sample("r3")));
            assertEquals(JudgmentStatus.UNUSABLE, j.status());
            assertTrue(j.detail().contains("HTTP 400"), j.detail());
            assertEquals(1, server.requestCount());
            assertEquals(0, judge.cachedEntries());
        }
        server.otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge fixed = open(config())) {
            assertEquals(List.of(3.0), fixed.score("p", List.of(Candidate.sample("r3"))).scores());
            assertEquals(2, server.requestCount(), "asked again once the endpoint accepts it");
        }
    }

    // ------------------------------------------------------------ outages and patience

    private JudgeConfig.Builder patient(Duration patience) {
        return config().retry(new RetryPolicy(Integer.MAX_VALUE, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(1), patience));
    }

    private static List<ListwiseRequest> batch(int n) {
        List<ListwiseRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new ListwiseRequest("prompt " + i, List.of(Candidate.sample("r" + (i % 7)))));
        return out;
    }

    @Test
    void anOutageShorterThanThePatienceIsWaitedOut() {
        // down for 600 ms from the first request on
        java.util.concurrent.atomic.AtomicLong back = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        server.otherwise(request -> {
            back.compareAndSet(Long.MAX_VALUE, System.nanoTime() + 600_000_000L);
            return System.nanoTime() < back.get() ? status(503, null, "{\"error\":\"restarting\"}") : scoreByText(request);
        });
        try (OpenAiJudge judge = open(patient(Duration.ofSeconds(20)))) {
            List<ListwiseJudgment> out = judge.scoreAll(batch(6));
            assertTrue(out.stream().allMatch(ListwiseJudgment::isUsable), out.toString());
            assertTrue(judge.stats().retries() >= 4, "every request in flight waited: " + judge.stats().retries() + " retries");
            assertEquals(6, judge.cachedEntries());
        }
    }

    /**
     * The patience is one clock per endpoint: with 4 requests in flight and 12 in the batch, an outage
     * stops the batch after about one patience, not three, and the requests not yet sent are not sent.
     */
    @Test
    void anOutageLongerThanThePatienceStopsTheBatchAfterOnePatience() {
        server.otherwise(request -> status(503, null, "{\"error\":\"down\"}"));
        long start = System.nanoTime();
        try (OpenAiJudge judge = open(patient(Duration.ofMillis(800)))) {
            JudgeUnavailableException e = assertThrows(JudgeUnavailableException.class, () -> judge.scoreAll(batch(12)));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(12, e.missing());
            assertEquals(12, e.total());
            assertTrue(e.getMessage().contains("patience 0.8 s") && e.getMessage().contains("503"), e.getMessage());
            assertTrue(millis >= 800 && millis < 2400, "stopped after " + millis + " ms");
            assertEquals(0, judge.cachedEntries(), "a failure is never cached");
            int sent = (int) server.requests.stream().map(r -> userMessage(r)).distinct().count();
            assertTrue(sent <= 8, "at most the 4 in flight and one more round were asked, not all 12: " + sent);
        }
    }

    /**
     * One request the endpoint always fails (a 500 for this input only) while it answers the others
     * is not an outage: it is unusable after a few attempts, not cached, and does not hold up the batch.
     */
    @Test
    void aRequestFailedWhileOthersAreAnsweredIsUnusableNotAnOutage() {
        // Two threads: one asks the poisoned prompt 1, the other answers the 11 others for ~550 ms meanwhile.
        server.otherwise(request -> userMessage(request).contains("prompt 1\n") ? status(500, null, "{\"error\":\"kaboom\"}")
                : sleepThen(50, scoreByText(request)));
        try (OpenAiJudge judge = open(patient(Duration.ofSeconds(30)).concurrency(2))) {
            List<ListwiseJudgment> out = judge.scoreAll(batch(12));
            assertEquals(JudgmentStatus.UNUSABLE, out.get(1).status(), out.get(1).detail());
            assertTrue(out.get(1).detail().contains("answered other requests") && out.get(1).detail().contains("kaboom"),
                    out.get(1).detail());
            for (int i = 0; i < 12; i++) if (i != 1) assertTrue(out.get(i).isUsable(), i + ": " + out.get(i));
            assertEquals(11, judge.cachedEntries(), "the failed one is not cached");
            long asked = server.requests.stream().filter(r -> userMessage(r).contains("prompt 1\n")).count();
            assertTrue(asked >= 1 + ChatCompletionClient.ITEM_FAILURES && asked <= 3 + ChatCompletionClient.ITEM_FAILURES,
                    "asked " + asked + " times");
        }
    }

    /** What was answered before the outage is cached; after it, a new judge asks exactly the rest. */
    @Test
    void afterAnOutageTheBatchAsksOnlyWhatIsMissing() {
        java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        server.otherwise(request -> {
            if (down.get() || answered.get() >= 5) {
                down.set(true);
                return status(500, null, null);
            }
            answered.incrementAndGet();
            return scoreByText(request);
        });
        List<ListwiseRequest> requests = batch(10);
        try (OpenAiJudge judge = open(patient(Duration.ofMillis(300)).concurrency(1))) {
            assertThrows(JudgeUnavailableException.class, () -> judge.scoreAll(requests));
            assertEquals(5, judge.cachedEntries());
        }
        int before = server.requestCount();
        down.set(false);
        answered.set(Integer.MIN_VALUE);
        try (OpenAiJudge resumed = open(patient(Duration.ofMillis(300)).concurrency(1))) {
            List<ListwiseJudgment> out = resumed.scoreAll(requests);
            assertTrue(out.stream().allMatch(ListwiseJudgment::isUsable));
            assertEquals(5, server.requestCount() - before, "only the 5 missing judgments are asked");
            assertEquals(5, resumed.stats().cacheHits());
        }
    }

    // ------------------------------------------------------------ cache

    @Test
    void aSecondJudgeOverTheSameCacheSendsZeroRequests() {
        server.otherwise(request -> userMessage(request).contains("Which of the two")
                ? prefersGood(request) : scoreByText(request));
        List<ListwiseRequest> lists = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            lists.add(new ListwiseRequest("prompt " + i, List.of(Candidate.sample("r" + (i % 7)), Candidate.gold("r6"))));
        }
        List<PairwiseRequest> pairs = List.of(
                new PairwiseRequest("q1", Candidate.sample("good"), Candidate.sample("bad")),
                new PairwiseRequest("q2", Candidate.sample("bad"), Candidate.gold("good")),
                new PairwiseRequest("q3", Candidate.sample("good"), Candidate.sample("meh")));
        List<ListwiseJudgment> firstLists;
        List<PairwiseJudgment> firstPairs;
        try (OpenAiJudge judge = open(config())) {
            firstLists = judge.scoreAll(lists);
            firstPairs = judge.compareAll(pairs);
            assertEquals(10 + 2 * 3, server.requestCount());
        }
        try (OpenAiJudge resumed = open(config())) {
            assertEquals(firstLists, resumed.scoreAll(lists));
            assertEquals(firstPairs, resumed.compareAll(pairs));
            assertEquals(10 + 2 * 3, server.requestCount(), "every judgment came from the cache");
            assertEquals(16, resumed.stats().cacheHits());
            assertEquals(0, resumed.stats().requests());
        }
        assertEquals(List.of(1.0, 0.0, 1.0), firstPairs.stream().map(PairwiseJudgment::probabilityFirstWins).toList());
    }

    @Test
    void identicalRequestsInFlightTogetherAreSentOnce() {
        server.otherwise(request -> sleepThen(100, scoreByText(request)));
        try (OpenAiJudge judge = open(config())) {
            ListwiseRequest r = new ListwiseRequest("p", List.of(Candidate.sample("r2"), Candidate.sample("r5")));
            List<ListwiseJudgment> out = judge.scoreAll(Collections.nCopies(4, r));
            assertTrue(out.stream().allMatch(j -> j.scores().equals(List.of(2.0, 5.0))));
            assertEquals(1, server.requestCount());
            assertEquals(3, judge.stats().cacheHits());
        }
    }

    @Test
    void cacheKeyChangesWithModelTemplateAndSamplingSettings() {
        server.otherwise(OpenAiJudgeTest::scoreByText);
        List<Candidate> c = List.of(Candidate.sample("r1"));
        try (OpenAiJudge judge = open(config())) {
            judge.score("p", c);
        }
        try (OpenAiJudge other = open(config().temperature(0.5))) {
            other.score("p", c);
        }
        try (OpenAiJudge other = open(config().templates(JudgeTemplates.defaults().withListwiseRubric("Be strict.")))) {
            other.score("p", c);
        }
        try (OpenAiJudge other = open(config().templates(null).cacheDir(runDir.resolve("judge-cache")))) {
            other.score("p", c);
        }
        assertEquals(3, server.requestCount(), "temperature and rubric are part of the key; the same config is not");
    }

    // ------------------------------------------------------------ pairwise

    @Test
    void pairwiseAsksInBothOrdersSoPositionBiasCancels() {
        server.otherwise(request -> answer("A"));
        try (OpenAiJudge judge = open(config().pairwiseLogprobs(false))) {
            PairwiseJudgment j = judge.compare("q", Candidate.sample("x"), Candidate.sample("y"));
            assertEquals(0.5, j.probabilityFirstWins(), 1e-12, "a judge that always says A prefers neither");
            assertEquals(2, server.requestCount());
            assertEquals(List.of("x", "y"), new ArrayList<>(shownResponses(server.requests.get(0)).values()));
            assertEquals(List.of("y", "x"), new ArrayList<>(shownResponses(server.requests.get(1)).values()));
            assertFalse(server.requests.get(0).has("logprobs"));
        }
        server.otherwise(OpenAiJudgeTest::prefersGood);
        try (OpenAiJudge judge = open(config().pairwiseLogprobs(false).cacheDir(null))) {
            assertEquals(1.0, judge.compare("q", Candidate.sample("good"), Candidate.sample("bad")).probabilityFirstWins());
            assertEquals(0.0, judge.compare("q", Candidate.sample("bad"), Candidate.gold("good")).probabilityFirstWins());
        }
        server.otherwise(request -> answer("TIE"));
        try (OpenAiJudge judge = open(config().pairwiseLogprobs(false).cacheDir(null))) {
            assertEquals(0.5, judge.compare("q", Candidate.sample("a"), Candidate.sample("b")).probabilityFirstWins());
        }
    }

    @Test
    void verdictLogprobsGiveASoftPreference() {
        // The judge leans to "good" more when it is shown first (0.7) than second (0.6).
        server.otherwise(request -> "good".equals(shownResponses(request).get("A"))
                ? answer("A", Map.of("A", 0.7, " B", 0.3))
                : answer("B", Map.of("A", 0.4, "B", 0.6)));
        try (OpenAiJudge judge = open(config())) {
            PairwiseJudgment j = judge.compare("q", Candidate.sample("good"), Candidate.sample("bad"));
            assertEquals((0.7 + 0.6) / 2, j.probabilityFirstWins(), 1e-9);
            assertTrue(j.detail().contains("soft"), j.detail());
            JsonNode request = server.requests.get(0);
            assertTrue(request.path("logprobs").asBoolean());
            assertEquals(5, request.path("top_logprobs").asInt());
        }
    }

    @Test
    void anUnusableOrderMakesThePairUnusable() {
        server.then(answer("A"), answer("Both are fine, really."), answer("I cannot decide."), answer("no"));
        try (OpenAiJudge judge = open(config().pairwiseLogprobs(false))) {
            PairwiseJudgment j = judge.compare("q", Candidate.sample("x"), Candidate.sample("y"));
            assertEquals(JudgmentStatus.UNUSABLE, j.status(), j.detail());
            assertTrue(Double.isNaN(j.probabilityFirstWins()));
            assertEquals(4, server.requestCount());
        }
    }

    // ------------------------------------------------------------ secrets, limits, config

    @Test
    void theApiKeyIsSentButNeverWrittenAnywhere() throws IOException {
        server.then(status(500, null, "{\"error\":\"bad header Bearer " + SECRET + "\"}"))
                .then(status(401, null, "{\"error\":\"invalid key " + SECRET + "\"}"))
                .otherwise(request -> userMessage(request).contains("Which of the two")
                        ? answer("A", Map.of("A", 0.9, "B", 0.1)) : scoreByText(request));
        try (OpenAiJudge judge = open(config())) {
            ListwiseJudgment failed = judge.score("p", List.of(Candidate.sample("r1")));
            assertEquals(JudgmentStatus.UNUSABLE, failed.status(), "refused (401) after a retried 500");
            assertFalse(failed.detail().contains(SECRET), "error messages are scrubbed: " + failed.detail());
            assertTrue(judge.score("p", List.of(Candidate.sample("r1"))).isUsable());
            assertTrue(judge.compare("q", Candidate.sample("a"), Candidate.sample("b")).isUsable());
            assertFalse(judge.config().toString().contains(SECRET));
        }
        assertTrue(server.authorizations.stream().allMatch(("Bearer " + SECRET)::equals));
        List<Path> files;
        try (Stream<Path> walk = Files.walk(runDir)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertFalse(files.isEmpty(), "the cache was written");
        for (Path f : files) {
            String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            assertFalse(content.contains(SECRET), f + " contains the API key");
        }
    }

    @Test
    void requestsInFlightNeverExceedTheConcurrencyLimit() {
        server.otherwise(request -> sleepThen(60, scoreByText(request)));
        List<ListwiseRequest> batch = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            batch.add(new ListwiseRequest("prompt " + i, List.of(Candidate.sample("r1"))));
        }
        try (OpenAiJudge judge = open(config().concurrency(3))) {
            assertTrue(judge.scoreAll(batch).stream().allMatch(ListwiseJudgment::isUsable));
        }
        assertEquals(12, server.requestCount());
        assertTrue(server.maxRunning.get() <= 3, "max in flight " + server.maxRunning.get());
        assertTrue(server.maxRunning.get() >= 2, "the batch ran concurrently: " + server.maxRunning.get());
    }

    @Test
    void noAuthorizationWithoutAKeyAndAMissingKeyIsNamed() {
        server.otherwise(OpenAiJudgeTest::scoreByText);
        try (OpenAiJudge judge = OpenAiJudge.open(config().apiKeyEnv(null).build(), name -> null)) {
            judge.score("p", List.of(Candidate.sample("r1")));
        }
        assertEquals("", server.authorizations.get(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpenAiJudge.open(config().build(), name -> null));
        assertTrue(e.getMessage().contains("JUDGE_KEY"), e.getMessage());
    }

    @Test
    void badConfigurationIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config().concurrency(0).build());
        assertTrue(e.getMessage().contains("concurrency"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JudgeConfig.builder("ftp://x", "m").build());
        assertTrue(e.getMessage().contains("baseUrl"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> config().requestTimeout(Duration.ZERO).build());
        assertTrue(e.getMessage().contains("requestTimeout"), e.getMessage());
    }
}
