package org.dnonative.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reading JSONL strictly, so that every problem is reported as {@code NAME:LINE: ...}: each line is
 * decoded as UTF-8 on its own (a malformed byte names its line, instead of the decoder's bare "Input
 * length = 1"), parsed as one JSON object with nothing after it, and refused when a string holds a
 * lone UTF-16 surrogate escape ({@code "\ud800"}), which no UTF-8 output can hold.
 */
public final class JsonLines {
    private JsonLines() {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** A line of text: its 1-based number and content (without the line break). */
    public record Line(int number, String text) {}

    /**
     * The lines of {@code in} (split at \n, a trailing \r dropped), each decoded as strict UTF-8;
     * {@code error} makes the exception for a message that already starts with "NAME:LINE: ".
     */
    public static List<Line> read(InputStream in, String name, Function<String, RuntimeException> error) throws IOException {
        byte[] all = in.readAllBytes();
        List<Line> out = new ArrayList<>();
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        int start = 0, number = 0;
        while (start < all.length) {
            int end = start;
            while (end < all.length && all[end] != '\n') end++;
            number++;
            int stop = end > start && all[end - 1] == '\r' ? end - 1 : end;
            ByteBuffer bytes = ByteBuffer.wrap(all, start, stop - start);
            CharBuffer chars = CharBuffer.allocate(stop - start);
            utf8.reset();
            CoderResult r = utf8.decode(bytes, chars, true);
            if (r.isError())
                throw error.apply(name + ":" + number + ": not valid UTF-8 (byte " + (bytes.position() - start + 1) + " of the line)");
            utf8.flush(chars);
            out.add(new Line(number, chars.flip().toString()));
            start = end + 1;
        }
        return out;
    }

    /** The line as one JSON object, or the reason it is not one (via {@code error}, prefixed with {@code where}). */
    public static ObjectNode parseObject(String text, String where, Function<String, RuntimeException> error) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw error.apply(where + ": not valid JSON: " + oneLine(e.getOriginalMessage()));
        }
        if (node == null || !node.isObject()) throw error.apply(where + ": expected a JSON object");
        String bad = loneSurrogateField(node, "");
        if (bad != null) throw error.apply(where + ": field '" + bad + "' holds a lone UTF-16 surrogate (\\ud800-\\udfff escape without its pair)");
        return (ObjectNode) node;
    }

    /** The dotted path of the first string (or key) with an unpaired surrogate, or null. */
    private static String loneSurrogateField(JsonNode node, String path) {
        if (node.isTextual()) return hasLoneSurrogate(node.asText()) ? path : null;
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                if (hasLoneSurrogate(e.getKey())) return p;
                String bad = loneSurrogateField(e.getValue(), p);
                if (bad != null) return bad;
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String bad = loneSurrogateField(node.get(i), path + "[" + i + "]");
                if (bad != null) return bad;
            }
        }
        return null;
    }

    public static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) return true;
        }
        return false;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n\\u2028\\u2029]+", " ");
    }
}
