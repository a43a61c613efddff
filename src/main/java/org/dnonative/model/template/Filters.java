package org.dnonative.model.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Jinja2's built-in filters that chat templates use, with Jinja2's signatures, plus transformers'
 * own {@code tojson} (ensure_ascii=False, indent, separators, sort_keys). A filter not listed here
 * is refused when the template is parsed.
 */
final class Filters {
    private Filters() {}

    private static final Set<String> NAMES = Set.of("tojson", "length", "count", "trim", "join", "selectattr",
            "rejectattr", "select", "reject", "map", "list", "first", "last", "default", "d", "upper", "lower",
            "title", "capitalize", "replace", "string", "int", "float", "abs", "round", "reverse", "sort", "unique",
            "items", "dictsort", "safe", "escape", "e", "indent", "sum", "min", "max", "wordcount", "center", "attr");

    static boolean exists(String name) { return NAMES.contains(name); }

    static Object apply(String name, Object v, List<Object> a, Map<String, Object> kw) {
        switch (name) {
            case "tojson":
                return new PyJson(Py.truthy(arg(a, kw, 0, "ensure_ascii", false)), arg(a, kw, 1, "indent", null),
                        arg(a, kw, 2, "separators", null), Py.truthy(arg(a, kw, 3, "sort_keys", false))).dumps(v);
            case "length", "count": return (long) Py.len(v);
            case "trim": {
                Object chars = arg(a, kw, 0, "chars", null);
                return PyStrings.strip(Py.str(v), chars == null ? null : Py.str(chars), true, true);
            }
            case "join": {
                String sep = Py.str(arg(a, kw, 0, "d", ""));
                Object attribute = arg(a, kw, 1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                List<Object> items = Py.iterate(v);
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) sb.append(sep);
                    Object item = attribute == null ? items.get(i) : attrPath(items.get(i), Py.str(attribute));
                    sb.append(Py.str(item));
                }
                return sb.toString();
            }
            case "selectattr", "rejectattr": {
                if (a.isEmpty()) throw new EvalError(name + " needs an attribute name");
                String attribute = Py.str(a.get(0));
                boolean keep = name.equals("selectattr");
                List<Object> out = new ArrayList<>();
                for (Object item : Py.iterate(v)) {
                    Object x = attrPath(item, attribute);
                    if (test(x, a.subList(1, a.size())) == keep) out.add(item);
                }
                return out;
            }
            case "select", "reject": {
                boolean keep = name.equals("select");
                List<Object> out = new ArrayList<>();
                for (Object item : Py.iterate(v)) if (test(item, a) == keep) out.add(item);
                return out;
            }
            case "map": {
                List<Object> out = new ArrayList<>();
                if (kw.containsKey("attribute")) {
                    String attribute = Py.str(kw.get("attribute"));
                    for (Object item : Py.iterate(v)) {
                        Object x = attrPath(item, attribute);
                        if (x instanceof Undefined && kw.containsKey("default")) x = kw.get("default");
                        out.add(x);
                    }
                    return out;
                }
                if (a.isEmpty()) throw new EvalError("map needs a filter name or attribute=");
                String f = Py.str(a.get(0));
                if (!exists(f)) throw new EvalError("no filter named '" + f + "'");
                for (Object item : Py.iterate(v)) out.add(apply(f, item, a.subList(1, a.size()), kw));
                return out;
            }
            case "list": return Py.iterate(v);
            case "first": {
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? new Undefined("No first item, sequence was empty.") : items.get(0);
            }
            case "last": {
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.get(items.size() - 1);
            }
            case "default", "d": {
                Object dflt = arg(a, kw, 0, "default_value", "");
                boolean bool = Py.truthy(arg(a, kw, 1, "boolean", false));
                return (v instanceof Undefined || (bool && !Py.truthy(v))) ? dflt : v;
            }
            case "upper": return PyStrings.upper(Py.str(v));
            case "lower": return PyStrings.lower(Py.str(v));
            case "title": return jinjaTitle(Py.str(v));
            case "capitalize": return PyStrings.capitalize(Py.str(v));
            case "replace": {
                Object count = arg(a, kw, 2, "count", null);
                return PyStrings.replace(Py.str(v), Py.str(need(a, 0, name)), Py.str(need(a, 1, name)),
                        count == null ? -1 : Py.asLong(count));
            }
            case "string", "safe": return Py.str(v);
            case "escape", "e": return Py.str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace("\"", "&#34;").replace("'", "&#39;");
            case "int": return toInt(v, arg(a, kw, 0, "default", 0L));
            case "float": return toFloat(v, arg(a, kw, 0, "default", 0.0));
            case "abs": {
                Long l = Py.asLong(v);
                if (l != null) return Math.abs(l);
                if (v instanceof Double d) return Math.abs(d);
                throw new EvalError("bad operand type for abs(): '" + Py.typeName(v) + "'");
            }
            case "round": return round(v, arg(a, kw, 0, "precision", 0L), Py.str(arg(a, kw, 1, "method", "common")));
            case "reverse": {
                if (v instanceof String s) return new StringBuilder(s).reverse().toString();
                List<Object> items = Py.iterate(v);
                Collections.reverse(items);
                return items;
            }
            case "sort": {
                List<Object> items = Py.iterate(v);
                boolean reverse = Py.truthy(arg(a, kw, 0, "reverse", false));
                boolean cs = Py.truthy(arg(a, kw, 1, "case_sensitive", false));
                Object attribute = arg(a, kw, 2, "attribute", null);
                Comparator<Object> cmp = (x, y) -> Py.compare(sortKey(x, attribute, cs), sortKey(y, attribute, cs), "<");
                items.sort(reverse ? cmp.reversed() : cmp);
                return items;
            }
            case "unique": {
                boolean cs = Py.truthy(arg(a, kw, 0, "case_sensitive", false));
                Object attribute = arg(a, kw, 1, "attribute", null);
                List<Object> out = new ArrayList<>();
                List<Object> seen = new ArrayList<>();
                for (Object item : Py.iterate(v)) {
                    Object key = sortKey(item, attribute, cs);
                    if (seen.stream().noneMatch(s -> Py.eq(s, key))) { seen.add(key); out.add(item); }
                }
                return out;
            }
            case "items": {
                if (v instanceof Undefined) return new ArrayList<>();
                if (!(v instanceof Map<?, ?> m)) throw new EvalError("can only get item pairs from a mapping, not " + Py.typeName(v));
                return pairs(m);
            }
            case "dictsort": {
                if (!(v instanceof Map<?, ?> m)) throw new EvalError("dictsort expects a mapping, not " + Py.typeName(v));
                boolean cs = Py.truthy(arg(a, kw, 0, "case_sensitive", false));
                boolean byValue = "value".equals(arg(a, kw, 1, "by", "key"));
                boolean reverse = Py.truthy(arg(a, kw, 2, "reverse", false));
                List<Object> items = pairs(m);
                Comparator<Object> cmp = (x, y) -> Py.compare(sortKey(((PyTuple) x).items().get(byValue ? 1 : 0), null, cs),
                        sortKey(((PyTuple) y).items().get(byValue ? 1 : 0), null, cs), "<");
                items.sort(reverse ? cmp.reversed() : cmp);
                return items;
            }
            case "indent": return indent(Py.str(v), arg(a, kw, 0, "width", 4L), Py.truthy(arg(a, kw, 1, "first", false)),
                    Py.truthy(arg(a, kw, 2, "blank", false)));
            case "sum": {
                Object attribute = arg(a, kw, 0, "attribute", null);
                Object total = arg(a, kw, 1, "start", 0L);
                for (Object item : Py.iterate(v)) total = Py.add(total, attribute == null ? item : attrPath(item, Py.str(attribute)));
                return total;
            }
            case "min", "max": {
                boolean cs = Py.truthy(arg(a, kw, 0, "case_sensitive", false));
                Object attribute = arg(a, kw, 1, "attribute", null);
                Object best = null;
                boolean any = false;
                for (Object item : Py.iterate(v)) {
                    int c = any ? Py.compare(sortKey(item, attribute, cs), sortKey(best, attribute, cs), "<") : 0;
                    if (!any || (name.equals("min") ? c < 0 : c > 0)) best = item;
                    any = true;
                }
                return any ? best : new Undefined("No aggregated item, sequence was empty.");
            }
            case "wordcount": {
                // Python's re \\w: str.isalnum() or '_' (Java's Unicode \\w also takes combining marks)
                long n = 0;
                boolean in = false;
                for (int cp : Py.str(v).codePoints().toArray()) {
                    boolean w = cp == '_' || PyStrings.isAlnum(cp);
                    if (w && !in) n++;
                    in = w;
                }
                return n;
            }
            case "center": {
                String s = Py.str(v);
                long width = Py.asLong(arg(a, kw, 0, "width", 80L));
                int len = Py.len(s);
                if (width <= len) return s;
                long pad = width - len;
                long left = pad / 2 + (pad & width & 1);
                return " ".repeat((int) left) + s + " ".repeat((int) (pad - left));
            }
            case "attr": return Access.getattr(v, Py.str(need(a, 0, name)));
            default: throw new EvalError("no filter named '" + name + "'");
        }
    }

    private static Object arg(List<Object> a, Map<String, Object> kw, int i, String name, Object dflt) {
        return PyCallable.arg(a, kw, i, name, dflt);
    }

    private static Object need(List<Object> a, int i, String filter) {
        if (i >= a.size()) throw new EvalError("filter '" + filter + "' needs " + (i + 1) + " argument(s)");
        return a.get(i);
    }

    /** Jinja2's attribute path for selectattr/map/join/sort: "a.b.0" looks up item by item. */
    static Object attrPath(Object item, String path) {
        Object x = item;
        for (String part : path.split("\\.")) {
            Object key = part.matches("\\d+") ? (Object) Long.parseLong(part) : part;
            x = Access.getitem(x, key);
        }
        return x;
    }

    private static boolean test(Object x, List<Object> args) {
        if (args.isEmpty()) return Py.truthy(x);
        String t = Py.str(args.get(0));
        if (!Tests.exists(t)) throw new EvalError("no test named '" + t + "'");
        return Tests.apply(t, x, args.subList(1, args.size()));
    }

    private static Object sortKey(Object item, Object attribute, boolean caseSensitive) {
        Object k = attribute == null ? item : attrPath(item, Py.str(attribute));
        return (!caseSensitive && k instanceof String s) ? PyStrings.lower(s) : k;
    }

    /** A dict's items as Python gives them: (key, value) tuples in order (dictsort and dict.items()). */
    static List<Object> pairs(Map<?, ?> m) {
        List<Object> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            List<Object> pair = new ArrayList<>(2);
            pair.add(e.getKey());
            pair.add(e.getValue());
            out.add(new PyTuple(pair));
        }
        return out;
    }

    /** Jinja2's title filter: words start after whitespace, '-', '(', '{', '[' or '<'; word[0].upper() + word[1:].lower(). */
    private static String jinjaTitle(String s) {
        StringBuilder sb = new StringBuilder();
        int[] cps = s.codePoints().toArray();
        int i = 0;
        while (i < cps.length) {
            int j = i;
            boolean sep = isTitleSep(cps[i]);
            while (j < cps.length && isTitleSep(cps[j]) == sep) j++;
            String part = new String(cps, i, j - i);
            if (sep) sb.append(part);
            else {
                int first = part.codePointAt(0);
                sb.append(PyStrings.upper(new String(Character.toChars(first)))).append(PyStrings.lower(part.substring(Character.charCount(first))));
            }
            i = j;
        }
        return sb.toString();
    }

    private static boolean isTitleSep(int cp) {
        return Py.isSpace(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
    }

    private static Object toInt(Object v, Object dflt) {
        Long l = Py.asLong(v);
        if (l != null) return l;
        if (v instanceof Double d) return (long) (double) d;
        if (v instanceof String s) {
            String t = PyStrings.strip(s, null, true, true).replace("_", "");
            try { return Long.parseLong(t); } catch (NumberFormatException e) { /* Jinja2 then tries float */ }
            try { return (long) Double.parseDouble(t); } catch (NumberFormatException e) { return dflt; }
        }
        return dflt;
    }

    private static Object toFloat(Object v, Object dflt) {
        if (Py.isNumber(v)) return Py.asDouble(v);
        if (v instanceof String s) {
            try { return Double.parseDouble(PyStrings.strip(s, null, true, true)); } catch (NumberFormatException e) { return dflt; }
        }
        return dflt;
    }

    private static Object round(Object v, Object precision, String method) {
        if (!Py.isNumber(v)) throw new EvalError("round expects a number, not " + Py.typeName(v));
        int p = (int) (long) Py.asLong(precision);
        if (Py.asLong(v) != null && method.equals("common")) return Py.asLong(v);  // Python: round(int, n) is that int
        BigDecimal bd = new BigDecimal(Py.asDouble(v));
        RoundingMode mode = switch (method) {
            case "common" -> RoundingMode.HALF_EVEN;
            case "ceil" -> RoundingMode.CEILING;
            case "floor" -> RoundingMode.FLOOR;
            default -> throw new EvalError("method must be common, ceil or floor");
        };
        double r = bd.setScale(p, mode).doubleValue();
        return r == 0 ? Math.copySign(0.0, Py.asDouble(v)) : r;
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String ind = width instanceof String w ? w : " ".repeat((int) (long) Py.asLong(width));
        s += "\n";
        List<Object> lines = Access.splitlines(s);
        String rv;
        if (blank) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) sb.append(i > 0 ? "\n" + ind : "").append(lines.get(i));
            rv = sb.toString();
        } else {
            StringBuilder sb = new StringBuilder((String) lines.get(0));
            for (int i = 1; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                sb.append('\n').append(line.isEmpty() ? line : ind + line);
            }
            rv = sb.toString();
        }
        return first ? ind + rv : rv;
    }
}
