package org.dnonative.oracle.judge;

import static org.dnonative.oracle.judge.ScriptedChatServer.answer;
import static org.dnonative.oracle.judge.ScriptedChatServer.status;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The one request before a run, against a loopback server that plays each kind of misconfigured endpoint. */
class EndpointCheckTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private ScriptedChatServer server;

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedChatServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private EndpointCheck.Failure failure(String model, String key) {
        return assertThrows(EndpointCheck.Failure.class, () -> EndpointCheck.check(server.baseUrl(), model, key, TIMEOUT));
    }

    @Test
    void aWorkingEndpointTakesOneRequestWithTheModelAndKey() {
        server.otherwise(request -> answer("{\"ok\": true}"));
        assertDoesNotThrow(() -> EndpointCheck.check(server.baseUrl(), "judge", "sk-1", TIMEOUT));
        assertEquals(1, server.requestCount());
        assertEquals("judge", server.requests.get(0).path("model").asText());
        assertEquals("Bearer sk-1", server.authorizations.get(0));
        assertTrue(ScriptedChatServer.isProbe(server.requests.get(0)));
    }

    /** As transformers serve answers a model it does not serve: HTTP 400, asked once, not retried. */
    @Test
    void aWrongModelNameIsNamedWithTheEndpointsWords() {
        server.otherwise(request -> status(400, null, "{\"error\":\"Model 'jduge' not found\"}"));
        EndpointCheck.Failure f = failure("jduge", null);
        assertEquals(EndpointCheck.Setting.MODEL, f.setting());
        assertTrue(f.getMessage().contains("Model 'jduge' not found") && f.getMessage().contains("model jduge"), f.getMessage());
        assertEquals(1, server.requestCount());
    }

    @Test
    void aRefusedKeyIsNamedAndNeverShown() {
        server.otherwise(request -> status(401, null, "{\"error\":\"invalid key sk-secret-42\"}"));
        EndpointCheck.Failure f = failure("judge", "sk-secret-42");
        assertEquals(EndpointCheck.Setting.API_KEY, f.setting());
        assertFalse(f.getMessage().contains("sk-secret-42"), f.getMessage());
        assertTrue(f.getMessage().contains("HTTP 401"), f.getMessage());
    }

    @Test
    void somethingElseThanAChatCompletionIsNamed() {
        server.otherwise(request -> status(200, null, "<html>a proxy's login page</html>"));
        EndpointCheck.Failure f = failure("judge", null);
        assertEquals(EndpointCheck.Setting.BASE_URL, f.setting());
        assertTrue(f.getMessage().contains("not an OpenAI chat completion"), f.getMessage());
        server.otherwise(request -> status(200, null, "{\"choices\": []}"));
        assertTrue(failure("judge", null).getMessage().contains("choices[0].message.content"));
    }

    /** Nothing listening: a few quick retries, then the URL is named (seconds, not the run's patience). */
    @Test
    void nothingListeningIsNamedWithinSeconds() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        long start = System.nanoTime();
        EndpointCheck.Failure f = assertThrows(EndpointCheck.Failure.class,
                () -> EndpointCheck.check("http://127.0.0.1:" + port + "/v1", "judge", null, TIMEOUT));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(EndpointCheck.Setting.BASE_URL, f.setting());
        assertTrue(f.getMessage().contains("no answer") && f.getMessage().contains("connection failed"), f.getMessage());
        assertTrue(millis < 10_000, "took " + millis + " ms");
        assertEquals(EndpointCheck.Setting.BASE_URL, assertThrows(EndpointCheck.Failure.class,
                () -> EndpointCheck.check("ftp://example", "judge", null, TIMEOUT)).setting());
    }
}
