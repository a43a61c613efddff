package org.dnonative.model.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's json.dumps as transformers' tojson filter calls it (ensure_ascii=False by default,
 * indent, separators, sort_keys): the separators are ", " and ": " without indent, "," and ": "
 * with it, and floats print as Python's repr.
 */
final class PyJson {
    private final boolean ensureAscii;
    private final String indent;
    private final String itemSep;
    private final String keySep;
    private final boolean sortKeys;

    PyJson(boolean ensureAscii, Object indent, Object separators, boolean sortKeys) {
        this.ensureAscii = ensureAscii;
        if (indent == null || indent instanceof Undefined) this.indent = null;
        else if (indent instanceof String s) this.indent = s;
        else {
            Long n = Py.asLong(indent);
            if (n == null) throw new EvalError("tojson: indent must be an int or a string, not " + Py.typeName(indent));
            this.indent = " ".repeat((int) Math.max(0, n));
        }
        if (separators != null && !(separators instanceof Undefined)) {
            List<Object> seps = Py.iterate(separators);
            if (seps.size() != 2) throw new EvalError("tojson: separators must be a pair");
            itemSep = Py.str(seps.get(0));
            keySep = Py.str(seps.get(1));
        } else {
            itemSep = this.indent == null ? ", " : ",";
            keySep = ": ";
        }
        this.sortKeys = sortKeys;
    }

    String dumps(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v, 0);
        return sb.toString();
    }

    private void write(StringBuilder sb, Object v, int depth) {
        v = Py.normalize(v);
        if (v == null) sb.append("null");
        else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
        else if (v instanceof Long l) sb.append(l);
        else if (v instanceof Double d) sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
        else if (v instanceof String s) string(sb, s);
        else if (v instanceof List<?> || v instanceof PyTuple) {
            List<?> items = v instanceof PyTuple t ? t.items() : (List<?>) v;
            if (items.isEmpty()) { sb.append("[]"); return; }
            sb.append('[');
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) sb.append(itemSep);
                newline(sb, depth + 1);
                write(sb, items.get(i), depth + 1);
            }
            newline(sb, depth);
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) { sb.append("{}"); return; }
            List<Map.Entry<String, Object>> entries = new ArrayList<>();
            for (Map.Entry<?, ?> e : m.entrySet()) entries.add(Map.entry(key(e.getKey()), e.getValue() == null ? NULL : e.getValue()));
            if (sortKeys) entries.sort((a, b) -> Py.compareCodePoints(a.getKey(), b.getKey()));
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : entries) {
                if (!first) sb.append(itemSep);
                first = false;
                newline(sb, depth + 1);
                string(sb, e.getKey());
                sb.append(keySep);
                write(sb, e.getValue() == NULL ? null : e.getValue(), depth + 1);
            }
            newline(sb, depth);
            sb.append('}');
        } else throw new EvalError("Object of type " + Py.typeName(v) + " is not JSON serializable");
    }

    private static final Object NULL = new Object();

    private static String key(Object k) {
        k = Py.normalize(k);
        if (k instanceof String s) return s;
        if (k == null) return "null";
        if (k instanceof Boolean b) return b ? "true" : "false";
        if (k instanceof Long || k instanceof Double) return Py.repr(k);
        throw new EvalError("keys must be str, int, float, bool or None, not " + Py.typeName(k));
    }

    private void newline(StringBuilder sb, int depth) {
        if (indent == null) return;
        sb.append('\n');
        for (int i = 0; i < depth; i++) sb.append(indent);
    }

    private void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    // Python escapes everything outside printable ASCII (space to ~) when ensure_ascii
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
