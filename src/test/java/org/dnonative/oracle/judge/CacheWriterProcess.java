package org.dnonative.oracle.judge;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Appends judgments to a cache until killed: the victim of {@link JudgmentCacheKillTest}. */
public final class CacheWriterProcess {
    public static void main(String[] args) {
        ObjectMapper json = new ObjectMapper();
        String padding = "x".repeat(4000);
        JudgmentCache cache = JudgmentCache.open(Path.of(args[0]));
        for (long i = 0; ; i++) {
            ObjectNode entry = json.createObjectNode().put("kind", "listwise").put("status", "OK")
                    .put("answer", padding).put("i", i);
            cache.put("key-" + i, entry);
        }
    }
}
