package org.dnonative.oracle.judge;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Keys of the judgment cache: SHA-256 over everything that decides an answer (judge model, template
 * texts, prompt, candidates in order, sampling settings), written as one JSON array so that no two
 * different inputs can run together. The endpoint URL and the API key are not part of it.
 */
final class CacheKeys {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String VERSION = "dno-judge-v1";

    private CacheKeys() {
    }

    static String of(String kind, String model, List<String> templateTexts, String prompt,
                     List<String> candidates, ObjectNode sampling) {
        ArrayNode parts = JSON.createArrayNode();
        parts.add(VERSION).add(kind).add(model);
        ArrayNode templates = parts.addArray();
        templateTexts.forEach(templates::add);
        parts.add(prompt);
        ArrayNode texts = parts.addArray();
        candidates.forEach(texts::add);
        parts.add(sampling);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(parts.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
