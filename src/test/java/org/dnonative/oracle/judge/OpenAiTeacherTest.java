package org.dnonative.oracle.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

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
    void anUnusableAnswerIsNullNotACrash() throws Exception {
        try (ScriptedChatServer server = new ScriptedChatServer()) {
            server.otherwise(request -> ScriptedChatServer.status(500, null, "always down"));
            List<String> answers = teacher(server, 2).respond(List.of("a", "b"));
            assertNull(answers.get(0));
            assertNull(answers.get(1));
        }
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
