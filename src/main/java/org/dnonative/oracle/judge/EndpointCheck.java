package org.dnonative.oracle.judge;

import java.net.URI;
import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One small request to a chat-completions endpoint before a run depends on it, so that a wrong URL,
 * model name or API key stops the run at once, with the endpoint's own words, instead of after
 * sampling as a stage full of refused judgments. It checks what every later request needs: an
 * answer at all (a few quick retries, not the run's patience), HTTP 200 (not a 400/404 for an
 * unknown model, not a 401/403 for the key), and a chat completion with a message in its JSON.
 */
public final class EndpointCheck {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RetryPolicy QUICK = new RetryPolicy(2, Duration.ofMillis(250), Duration.ofSeconds(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5));

    private EndpointCheck() {
    }

    /** What is wrong with the endpoint, and which setting is the likely culprit. */
    public static final class Failure extends RuntimeException {
        private final Setting setting;

        Failure(Setting setting, String message) {
            super(message);
            this.setting = setting;
        }

        public Setting setting() {
            return setting;
        }
    }

    /** The setting a failure points at. */
    public enum Setting { BASE_URL, MODEL, API_KEY }

    /**
     * Sends one request to {@code baseUrl/chat/completions} asking {@code model} for a few tokens.
     *
     * @param apiKey the key itself (null for none); it never appears in a message
     * @throws Failure naming what is wrong
     */
    public static void check(String baseUrl, String model, String apiKey, Duration timeout) {
        URI uri;
        try {
            uri = URI.create(baseUrl);
        } catch (IllegalArgumentException e) {
            throw new Failure(Setting.BASE_URL, baseUrl + " is not a URL");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new Failure(Setting.BASE_URL, baseUrl + " is not an http(s) URL");
        }
        ChatCompletionClient client = new ChatCompletionClient(uri, apiKey, timeout, 1, QUICK, new JudgeCounters());
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        body.putArray("messages").addObject().put("role", "user")
                .put("content", "Reply with the JSON object {\"ok\": true} and nothing else.");
        body.put("temperature", 0.0);
        body.put("max_tokens", 16);
        String at = uri + " (model " + model + ")";
        try {
            client.complete(body);
        } catch (JudgeTransportException.Rejected e) {
            Setting s = e.status() == 401 || e.status() == 403 ? Setting.API_KEY
                    : e.status() == 404 && !e.body().toLowerCase(java.util.Locale.ROOT).contains("model") ? Setting.BASE_URL
                    : Setting.MODEL;
            String hint = switch (s) {
                case API_KEY -> "the endpoint refuses the API key";
                case BASE_URL -> "no chat-completions endpoint at this URL";
                case MODEL -> "the endpoint refuses the request; is the model name one it serves?";
            };
            throw new Failure(s, at + ": " + hint + ": " + e.getMessage());
        } catch (JudgeTransportException e) {
            throw new Failure(Setting.BASE_URL, at + ": no answer: " + e.getMessage());
        } catch (MalformedAnswerException e) {
            throw new Failure(Setting.BASE_URL, at + ": the answer is not an OpenAI chat completion: " + e.getMessage());
        }
    }
}
