package org.dnonative.model.tokenizer;

/** tokenizer.json's pattern objects: {"String": literal} or {"Regex": Oniguruma regex}. */
final class Patterns {
    private Patterns() {}

    static HfRegex of(Json p, String where) {
        if (p == null || !p.isObject()) throw new TokenizerException(where + ": pattern missing");
        if (p.path("String").isTextual()) return HfRegex.literal(p.get("String").asText());
        if (p.path("Regex").isTextual()) return HfRegex.regex(p.get("Regex").asText(), where);
        throw new TokenizerException(where + ": pattern " + p + " is neither String nor Regex");
    }
}
