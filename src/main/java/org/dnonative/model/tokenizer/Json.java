package org.dnonative.model.tokenizer;

import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON value of tokenizer.json's small sections (normalizer, pre_tokenizer, decoder, ...), read by
 * {@link JsonScanner}, with the part of Jackson's JsonNode API that this package uses and Jackson's
 * meaning for it ({@link #path} of an absent member is a missing value, {@code asText("x")} of a
 * missing or null value is "x", ...). Why not Jackson's nodes: loading and linking their classes is
 * ~7 ms of a tokenizer's first load in a fresh JVM, more than reading all of Llama 2's sections.
 */
final class Json implements Iterable<Json> {
    private enum Kind { OBJECT, ARRAY, STRING, NUMBER, BOOLEAN, NULL, MISSING }

    static final Json NULL = new Json(Kind.NULL, null, 0, 0), MISSING = new Json(Kind.MISSING, null, 0, 0),
            TRUE = new Json(Kind.BOOLEAN, null, 1, 1), FALSE = new Json(Kind.BOOLEAN, null, 0, 0);

    private final Kind kind;
    private final Object value;        // OBJECT: Map<String, Json>; ARRAY: List<Json>; STRING: String
    private final long integer;        // NUMBER without fraction or exponent that fits a long (else Long.MIN_VALUE); BOOLEAN: 1/0
    private final double real;         // NUMBER: its value

    private Json(Kind kind, Object value, long integer, double real) {
        this.kind = kind;
        this.value = value;
        this.integer = integer;
        this.real = real;
    }

    static Json object() { return new Json(Kind.OBJECT, new LinkedHashMap<String, Json>(), 0, 0); }
    static Json array(List<Json> items) { return new Json(Kind.ARRAY, items, 0, 0); }
    static Json text(String s) { return new Json(Kind.STRING, s, 0, 0); }
    /** An integer that fits a long. */
    static Json number(long v) { return new Json(Kind.NUMBER, null, v, v); }
    /** A number with a fraction or an exponent, or an integer beyond a long. */
    static Json number(double v) { return new Json(Kind.NUMBER, null, Long.MIN_VALUE, v); }

    @SuppressWarnings("unchecked")
    private Map<String, Json> members() { return (Map<String, Json>) value; }
    @SuppressWarnings("unchecked")
    private List<Json> items() { return (List<Json>) value; }

    /** An object's member set (a later one of the same name replaces it, as Jackson and serde_json read them). */
    void set(String name, Json v) { members().put(name, v); }

    boolean isObject() { return kind == Kind.OBJECT; }
    boolean isArray() { return kind == Kind.ARRAY; }
    boolean isTextual() { return kind == Kind.STRING; }
    boolean isNull() { return kind == Kind.NULL; }
    boolean isNumber() { return kind == Kind.NUMBER; }
    boolean isBoolean() { return kind == Kind.BOOLEAN; }
    /** A number without fraction or exponent that fits a long: {@link #asLong} is exact. */
    boolean isIntegral() { return kind == Kind.NUMBER && integer != Long.MIN_VALUE; }
    long asLong() { return isIntegral() ? integer : (long) asDouble(); }

    /** An object's member, or null (also when this is not an object). */
    Json get(String name) { return kind == Kind.OBJECT ? members().get(name) : null; }
    /** An array's element, or null. */
    Json get(int index) { return kind == Kind.ARRAY && index >= 0 && index < items().size() ? items().get(index) : null; }
    /** An object's member, or the missing value. */
    Json path(String name) { Json v = get(name); return v == null ? MISSING : v; }
    boolean has(String name) { return get(name) != null; }
    int size() { return kind == Kind.OBJECT ? members().size() : kind == Kind.ARRAY ? items().size() : 0; }

    /** An array's elements or an object's member values (Jackson's iteration); nothing for other values. */
    @Override public Iterator<Json> iterator() {
        if (kind == Kind.ARRAY) return items().iterator();
        if (kind == Kind.OBJECT) return members().values().iterator();
        return Collections.emptyIterator();
    }

    /** An object's members in file order (none for other values). */
    Iterable<Map.Entry<String, Json>> fields() { return kind == Kind.OBJECT ? members().entrySet() : Collections.emptyList(); }

    /** Jackson's asText: a string's text, a number's or boolean's text, "null", "" for containers and missing values. */
    String asText() {
        switch (kind) {
            case STRING: return (String) value;
            case NUMBER: return integer != Long.MIN_VALUE ? Long.toString(integer) : Double.toString(real);
            case BOOLEAN: return integer != 0 ? "true" : "false";
            case NULL: return "null";
            default: return "";
        }
    }

    /** Jackson's asText(default): the default for null and missing values. */
    String asText(String def) { return kind == Kind.NULL || kind == Kind.MISSING ? def : asText(); }

    /** Jackson's asBoolean(default): booleans, integers (non-zero), the texts "true" and "false"; else the default. */
    boolean asBoolean(boolean def) {
        switch (kind) {
            case BOOLEAN: return integer != 0;
            case NUMBER: return integer != Long.MIN_VALUE ? integer != 0 : def;
            case STRING: {
                String t = ((String) value).trim();
                return t.equals("true") || (!t.equals("false") && def);
            }
            default: return def;
        }
    }

    int asInt() { return asInt(0); }

    /** Jackson's asInt(default): numbers (truncated), booleans 1/0, a text that is an int; else the default. */
    int asInt(int def) {
        switch (kind) {
            case NUMBER: return integer != Long.MIN_VALUE ? (int) integer : (int) real;
            case BOOLEAN: return (int) integer;
            case STRING:
                try { return Integer.parseInt(((String) value).trim()); } catch (NumberFormatException e) { return def; }
            default: return def;
        }
    }

    double asDouble() {
        switch (kind) {
            case NUMBER: return real;
            case BOOLEAN: return integer;
            case STRING:
                try { return Double.parseDouble(((String) value).trim()); } catch (NumberFormatException e) { return 0; }
            default: return 0;
        }
    }

    /** Jackson's canConvertToInt: a number within int range. */
    boolean canConvertToInt() { return kind == Kind.NUMBER && real >= Integer.MIN_VALUE && real <= Integer.MAX_VALUE; }

    /** JSON text (for error messages). */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder();
        write(sb);
        return sb.toString();
    }

    private void write(StringBuilder sb) {
        switch (kind) {
            case OBJECT: {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<String, Json> e : members().entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    quote(sb, e.getKey());
                    sb.append(':');
                    e.getValue().write(sb);
                }
                sb.append('}');
                return;
            }
            case ARRAY: {
                sb.append('[');
                for (int k = 0; k < items().size(); k++) { if (k > 0) sb.append(','); items().get(k).write(sb); }
                sb.append(']');
                return;
            }
            case STRING: quote(sb, (String) value); return;
            case MISSING: return;
            default: sb.append(asText());
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        sb.append('"');
    }
}
