package org.dnonative.model.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Attribute and item access as Jinja2's sandbox does it: {@code x.name} looks for a (safe) method
 * first and then a key, {@code x['name']} a key first; a missing one is Undefined. Only the
 * methods listed here exist: templates cannot reach Java objects, and methods that mutate
 * (append, pop, update, ...) are refused, as in transformers' ImmutableSandboxedEnvironment.
 */
final class Access {
    private Access() {}

    private static final Set<String> UNSAFE = Set.of("append", "extend", "insert", "pop", "popitem", "remove",
            "clear", "update", "setdefault", "sort", "reverse", "add", "discard");

    static Object getattr(Object obj, String name) {
        if (obj instanceof Undefined u) throw u.error();
        Object m = method(obj, name);
        if (m != null) return m;
        if (obj instanceof Map<?, ?> map && map.containsKey(name)) return map.get(name);
        if (obj instanceof Namespace ns && ns.attrs.containsKey(name)) return ns.attrs.get(name);
        if (obj instanceof LoopInfo loop) return loop.attr(name);
        return missing(obj, name);
    }

    static Object getitem(Object obj, Object key) {
        if (obj instanceof Undefined u) throw u.error();
        key = Py.normalize(key);
        if (obj instanceof Map<?, ?> map) {
            Object k = Py.mapKey(key);
            if (map.containsKey(k)) return map.get(k);
        } else if (obj instanceof List<?> || obj instanceof PyTuple) {
            List<?> l = obj instanceof PyTuple t ? t.items() : (List<?>) obj;
            Long i = Py.asLong(key);
            if (i != null) {
                long j = i < 0 ? i + l.size() : i;
                return (j >= 0 && j < l.size()) ? l.get((int) j) : new Undefined(Py.typeName(obj) + " index out of range");
            }
        } else if (obj instanceof String s) {
            Long i = Py.asLong(key);
            if (i != null) {
                String c = Py.codePointAt(s, i);
                return c != null ? c : new Undefined("string index out of range");
            }
        }
        if (key instanceof String name) {
            Object m = method(obj, name);
            if (m != null) return m;
            if (obj instanceof Namespace ns && ns.attrs.containsKey(name)) return ns.attrs.get(name);
            if (obj instanceof LoopInfo loop) return loop.attr(name);
        }
        return missing(obj, Py.str(key));
    }

    private static Undefined missing(Object obj, String name) {
        return new Undefined("'" + (obj == null ? "None" : Py.typeName(obj) + " object") + "' has no attribute '" + name + "'");
    }

    private static Object method(Object obj, String name) {
        if ((obj instanceof Map || obj instanceof List) && UNSAFE.contains(name))
            throw new EvalError("access to attribute '" + name + "' of '" + Py.typeName(obj) + "' object is unsafe (the sandbox is immutable)");
        if (obj instanceof String s) return strMethod(s, name);
        if (obj instanceof Map<?, ?> m) return dictMethod(m, name);
        return null;
    }

    private static PyCallable dictMethod(Map<?, ?> m, String name) {
        return switch (name) {
            case "items" -> (a, k) -> Filters.pairs(m);
            case "keys" -> (a, k) -> new ArrayList<Object>(m.keySet());
            case "values" -> (a, k) -> new ArrayList<Object>(m.values());
            case "get" -> (a, k) -> {
                Object key = Py.mapKey(PyCallable.arg(a, k, 0, "key", null));
                return m.containsKey(key) ? m.get(key) : PyCallable.arg(a, k, 1, "default", null);
            };
            default -> null;
        };
    }

    private static PyCallable strMethod(String s, String name) {
        return switch (name) {
            case "startswith" -> (a, k) -> PyStrings.startsOrEnds(s, need(a, 0, name), true);
            case "endswith" -> (a, k) -> PyStrings.startsOrEnds(s, need(a, 0, name), false);
            case "strip" -> (a, k) -> PyStrings.strip(s, chars(a, k), true, true);
            case "lstrip" -> (a, k) -> PyStrings.strip(s, chars(a, k), true, false);
            case "rstrip" -> (a, k) -> PyStrings.strip(s, chars(a, k), false, true);
            case "split" -> (a, k) -> PyStrings.split(s, chars(a, k, "sep"), maxsplit(a, k));
            case "rsplit" -> (a, k) -> PyStrings.rsplit(s, chars(a, k, "sep"), maxsplit(a, k));
            case "splitlines" -> (a, k) -> splitlines(s);
            case "replace" -> (a, k) -> {
                Object count = PyCallable.arg(a, k, 2, "count", -1L);
                return PyStrings.replace(s, string(need(a, 0, name), name), string(need(a, 1, name), name), Py.asLong(count));
            };
            case "upper" -> (a, k) -> PyStrings.upper(s);
            case "lower" -> (a, k) -> PyStrings.lower(s);
            case "title" -> (a, k) -> PyStrings.title(s);
            case "capitalize" -> (a, k) -> PyStrings.capitalize(s);
            case "find" -> (a, k) -> {
                int i = s.indexOf(string(need(a, 0, name), name));
                return (long) (i < 0 ? -1 : s.codePointCount(0, i));
            };
            case "count" -> (a, k) -> {
                String sub = string(need(a, 0, name), name);
                if (sub.isEmpty()) return (long) Py.len(s) + 1;
                long n = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
                return n;
            };
            case "join" -> (a, k) -> {
                StringBuilder sb = new StringBuilder();
                List<Object> items = Py.iterate(need(a, 0, name));
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) sb.append(s);
                    sb.append(string(items.get(i), name));
                }
                return sb.toString();
            };
            case "isdigit" -> (a, k) -> PyStrings.allMatch(s, PyStrings::isDigit);
            case "isalpha" -> (a, k) -> PyStrings.allMatch(s, Character::isLetter);
            case "isalnum" -> (a, k) -> PyStrings.allMatch(s, PyStrings::isAlnum);
            case "isspace" -> (a, k) -> PyStrings.allMatch(s, Py::isSpace);
            case "isupper" -> (a, k) -> PyStrings.isUpper(s);
            case "islower" -> (a, k) -> PyStrings.isLower(s);
            default -> null;
        };
    }

    static List<Object> splitlines(String s) {
        List<Object> out = new ArrayList<>(List.of(s.split("\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]", -1)));
        if (!out.isEmpty() && "".equals(out.get(out.size() - 1))) out.remove(out.size() - 1);
        return out;
    }

    private static Object need(List<Object> a, int i, String method) {
        if (i >= a.size()) throw new EvalError(method + "() takes at least " + (i + 1) + " argument(s)");
        return a.get(i);
    }

    private static String string(Object v, String method) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined u) throw u.error();
        throw new EvalError(method + "(): expected str, not " + Py.typeName(v));
    }

    private static String chars(List<Object> a, Map<String, Object> k) { return chars(a, k, "chars"); }

    private static String chars(List<Object> a, Map<String, Object> k, String kw) {
        Object c = PyCallable.arg(a, k, 0, kw, null);
        return c == null ? null : string(c, kw);
    }

    private static long maxsplit(List<Object> a, Map<String, Object> k) {
        Long n = Py.asLong(PyCallable.arg(a, k, 1, "maxsplit", -1L));
        if (n == null) throw new EvalError("maxsplit must be an int");
        return n;
    }
}
