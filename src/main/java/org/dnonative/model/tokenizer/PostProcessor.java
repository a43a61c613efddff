package org.dnonative.model.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * tokenizer.json's "post_processor", for a single sequence: the special tokens it adds around the ids
 * (TemplateProcessing, BertProcessing, RobertaProcessing, Sequence). ByteLevel only moves offsets,
 * which this tokenizer does not report, so it adds nothing.
 */
final class PostProcessor {
    private final int[] before, after;

    private PostProcessor(int[] before, int[] after) { this.before = before; this.after = after; }

    /** The processor {@code n} describes, or null when it adds no tokens. */
    static PostProcessor of(Json n, String where) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        String at = where.concat(": post_processor ").concat(type);   // concat, not +: see Normalizers.of
        switch (type) {
            case "Sequence": {
                PostProcessor found = null;
                for (Json c : n.path("processors")) {
                    PostProcessor p = of(c, where);
                    if (p == null) continue;
                    if (found != null) throw new TokenizerException(at + ": more than one processor adds tokens");
                    found = p;
                }
                return found;
            }
            case "ByteLevel": return null;
            case "BertProcessing":
            case "RobertaProcessing":
                return new PostProcessor(new int[]{idOf(n.get("cls"), at)}, new int[]{idOf(n.get("sep"), at)});
            case "TemplateProcessing": {
                Map<String, int[]> specials = new HashMap<>();
                for (Map.Entry<String, Json> e : n.path("special_tokens").fields()) {
                    Json ids = e.getValue().get("ids");
                    int[] a = new int[ids == null ? 0 : ids.size()];
                    for (int i = 0; i < a.length; i++) a[i] = ids.get(i).asInt();
                    specials.put(e.getKey(), a);
                }
                IntList before = new IntList(), after = new IntList();
                boolean seenSequence = false;
                for (Json item : n.path("single")) {
                    if (item.has("Sequence")) {
                        if (seenSequence) throw new TokenizerException(at + ": the single template holds the sequence twice");
                        seenSequence = true;
                    } else if (item.has("SpecialToken")) {
                        String id = item.get("SpecialToken").path("id").asText();
                        int[] ids = specials.get(id);
                        if (ids == null) throw new TokenizerException(at + ": special token '" + id + "' is not in special_tokens");
                        (seenSequence ? after : before).addAll(ids);
                    } else throw new TokenizerException(at + ": template item " + item + " is not supported");
                }
                if (!seenSequence) throw new TokenizerException(at + ": the single template has no sequence");
                return new PostProcessor(before.toArray(), after.toArray());
            }
            default: throw new TokenizerException(at + " is not supported");
        }
    }

    private static int idOf(Json pair, String at) {
        if (pair == null || !pair.isArray() || pair.size() != 2) throw new TokenizerException(at + ": expected [token, id]");
        return pair.get(1).asInt();
    }

    int[] apply(int[] ids) {
        if (before.length == 0 && after.length == 0) return ids;
        int[] out = new int[before.length + ids.length + after.length];
        System.arraycopy(before, 0, out, 0, before.length);
        System.arraycopy(ids, 0, out, before.length, ids.length);
        System.arraycopy(after, 0, out, before.length + ids.length, after.length);
        return out;
    }

}
