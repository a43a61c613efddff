package org.dnonative.oracle.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The teacher endpoint against a scripted loopback server. */
class OpenAiTeacherTest {
    static final RetryPolicy FAST = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(2));

    static OpenAiTeacher teacher(ScriptedChatServer server, int concurrency) {
        return new OpenAiTeacher(server.baseUrl(), "teacher-model", "TEACHER_KEY", Duration.ofSeconds(5), concurrency, 0.0,
                64, FAST, name -> name.equals("TEACHER_KEY") ? "sk-teacher-secret" : null);
    }

    @Test
    void answersEveryPromptInOrderRetryingTransientFailures() throws Exception {
        try (ScriptedChatServer server = new ScriptedChatServer()) {
            server.then(ScriptedChatServer.status(500, null, "boom"), ScriptedChatServer.status(429, "0", "slow down"));
            server.otherwise(request -> ScriptedChatServer.answer("  gold for " + ScriptedChatServer.userMessage(request) + "\n"));
            List<String> answers = teacher(server, 1).respond(List.of("1+1=", "2+2=", "3+3="));
            assertEquals(List.of("gold for 1+1=", "gold for 2+2=", "gold for 3+3="), answers);
            assertEquals(5, server.requestCount(), "two failures retried, then three answers");
            assertEquals("teacher-model", server.requests.get(0).get("model").asText());
            assertEquals(0.0, server.requests.get(0).get("temperature").asDouble());
            assertTrue(server.authorizations.get(0).endsWith("sk-teacher-secret"));
        }
    }

    @Test
    void anEmptyAnswerIsNullNotACrash() throws Exception {
        try (ScriptedChatServer server = new ScriptedChatServer()) {
            server.otherwise(request -> ScriptedChatServer.answer("  \n"));
            List<String> answers = teacher(server, 2).respond(List.of("a", "b"));
            assertNull(answers.get(0));
            assertNull(answers.get(1));
        }
    }

    /** A teacher that is down is not a teacher without answers: the run must not go on without gold for good. */
    @Test
    void anEndpointDownForLongerThanThePatienceThrows() throws Exception {
        try (ScriptedChatServer server = new ScriptedChatServer()) {
            server.otherwise(request -> ScriptedChatServer.status(500, null, "always down"));
            JudgeUnavailableException e = assertThrows(JudgeUnavailableException.class,
                    () -> teacher(server, 1).respond(List.of("a", "b", "c")));
            assertEquals(3, e.missing());
            assertTrue(e.getMessage().contains("always down"), e.getMessage());
            assertEquals(4, server.requestCount(), "the first prompt's attempts, then nothing more while it is down");
        }
    }

    /** With a cache, answers survive the teacher (a run killed before it saved its split): none is asked twice. */
    @Test
    void cachedAnswersAreNotAskedAgain(@TempDir Path dir) throws Exception {
        try (ScriptedChatServer server = new ScriptedChatServer()) {
            java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
            server.otherwise(request -> answered.incrementAndGet() <= 2
                    ? ScriptedChatServer.answer("gold for " + ScriptedChatServer.userMessage(request))
                    : ScriptedChatServer.status(503, null, "gone"));
            try (OpenAiTeacher t = cached(server, dir)) {
                assertThrows(JudgeUnavailableException.class, () -> t.respond(List.of("1+1=", "2+2=", "3+3=", "4+4=")));
            }
            int before = server.requestCount();
            answered.set(Integer.MIN_VALUE);
            try (OpenAiTeacher t = cached(server, dir)) {
                assertEquals(List.of("gold for 1+1=", "gold for 2+2=", "gold for 3+3=", "gold for 4+4="),
                        t.respond(List.of("1+1=", "2+2=", "3+3=", "4+4=")));
            }
            assertEquals(2, server.requestCount() - before, "only the two prompts without an answer are asked");
        }
    }

    static OpenAiTeacher cached(ScriptedChatServer server, Path dir) {
        return new OpenAiTeacher(server.baseUrl(), "teacher-model", null, Duration.ofSeconds(5), 1, 0.0, 64, FAST, name -> null, dir);
    }

    @Test
    void badSettingsNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new OpenAiTeacher("http://127.0.0.1:9/v1",
                "m", "MISSING_VAR", Duration.ofSeconds(1), 1, 0, 8, FAST, name -> null));
        assertTrue(e.getMessage().contains("MISSING_VAR"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new OpenAiTeacher("http://127.0.0.1:9/v1", " ", null,
                Duration.ofSeconds(1), 1, 0, 8, FAST, name -> null));
        assertTrue(e.getMessage().contains("model"), e.getMessage());
    }
}
