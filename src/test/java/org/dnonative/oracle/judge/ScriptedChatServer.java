package org.dnonative.oracle.judge;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A chat-completions endpoint on the loopback address that answers from a script: queued actions
 * first, in order, then a fallback that may look at the request. Records every request. Public for
 * the run-level fault tests ({@code org.dnonative.dno.JudgeFaultTest}).
 */
public final class ScriptedChatServer implements AutoCloseable {

    public static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SHOWN = Pattern.compile("<response label=\"([A-Z])\">\\n(.*?)\\n</response>",
            Pattern.DOTALL);

    /** What the server does with one request. */
    public interface Action {
        void respond(HttpExchange exchange) throws IOException;
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Deque<Action> script = new ArrayDeque<>();
    private volatile Function<JsonNode, Action> fallback = request -> status(500, null, "no script left");
    public final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();

    public ScriptedChatServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(threads);
        server.createContext("/v1/chat/completions", this::handle);
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    public synchronized ScriptedChatServer then(Action... actions) {
        script.addAll(List.of(actions));
        return this;
    }

    public ScriptedChatServer otherwise(Function<JsonNode, Action> f) {
        fallback = f;
        return this;
    }

    public int requestCount() {
        return requests.size();
    }

    private void handle(HttpExchange exchange) throws IOException {
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        try {
            JsonNode request = JSON.readTree(exchange.getRequestBody().readAllBytes());
            requests.add(request);
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(auth == null ? "" : auth);
            Action action;
            synchronized (this) {
                action = script.poll();
            }
            if (action == null) {
                action = fallback.apply(request);
            }
            action.respond(exchange);
        } catch (IOException e) {
            // The client went away (after a timeout, or a drop we caused): nothing to answer.
        } finally {
            running.decrementAndGet();
            exchange.close();
        }
    }

    // ------------------------------------------------------------ actions

    public static Action answer(String content) {
        return answer(content, null);
    }

    /** A 200 chat completion; {@code topLogprobs} (token -> probability) adds a verdict token's logprobs. */
    public static Action answer(String content, Map<String, Double> topLogprobs) {
        return exchange -> {
            ObjectNode root = JSON.createObjectNode();
            root.put("id", "chatcmpl-test").put("object", "chat.completion");
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0).put("finish_reason", "stop");
            choice.putObject("message").put("role", "assistant").put("content", content);
            if (topLogprobs != null) {
                ObjectNode token = choice.putObject("logprobs").putArray("content").addObject();
                token.put("token", content);
                token.put("logprob", Math.log(topLogprobs.getOrDefault(content, 0.01)));
                ArrayNode top = token.putArray("top_logprobs");
                topLogprobs.forEach((t, p) -> top.addObject().put("token", t).put("logprob", Math.log(p)));
            }
            root.putObject("usage").put("prompt_tokens", 100).put("completion_tokens", 7).put("total_tokens", 107);
            send(exchange, 200, root.toString(), Map.of());
        };
    }

    public static Action status(int code, String retryAfter, String body) {
        return exchange -> send(exchange, code, body == null ? "{}" : body,
                retryAfter == null ? Map.of() : Map.of("Retry-After", retryAfter));
    }

    public static Action sleepThen(long millis, Action then) {
        return exchange -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            then.respond(exchange);
        };
    }

    /** Promises 1000 bytes, sends 20, and closes the connection. */
    public static Action dropMidResponse() {
        return exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, 1000);
            OutputStream out = exchange.getResponseBody();
            out.write("{\"id\":\"chatcmpl-drop".getBytes(StandardCharsets.UTF_8));
            out.flush();
            exchange.close();
        };
    }

    private static void send(HttpExchange exchange, int code, String body, Map<String, String> headers)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        headers.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        exchange.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    // ------------------------------------------------------------ reading requests

    public static String userMessage(JsonNode request) {
        return request.path("messages").path(0).path("content").asText();
    }

    /** label -> response text, in the order shown. */
    public static Map<String, String> shownResponses(JsonNode request) {
        Map<String, String> shown = new LinkedHashMap<>();
        Matcher m = SHOWN.matcher(userMessage(request));
        while (m.find()) {
            shown.put(m.group(1), m.group(2));
        }
        return shown;
    }

    /** Whether a request is {@link EndpointCheck}'s probe rather than a judgment or a teacher question. */
    public static boolean isProbe(JsonNode request) {
        return userMessage(request).startsWith("Reply with the JSON object {\"ok\": true}");
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
