package org.dnonative.model.template;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python value semantics for template values. Values are: null (None), {@link Undefined}, Boolean,
 * Long (int), Double (float), String, List (list), {@link PyTuple}, Map (dict), {@link Namespace},
 * {@link PyCallable}. Strings are indexed, sliced and measured in code points, as Python does.
 */
final class Py {
    private Py() {}

    // ---- types and truth

    static String typeName(Object v) {
        if (v == null) return "NoneType";
        if (v instanceof Undefined) return "Undefined";
        if (v instanceof Boolean) return "bool";
        if (v instanceof Long || v instanceof Integer) return "int";
        if (v instanceof Double || v instanceof Float) return "float";
        if (v instanceof String) return "str";
        if (v instanceof List) return "list";
        if (v instanceof PyTuple) return "tuple";
        if (v instanceof Map) return "dict";
        if (v instanceof Namespace) return "Namespace";
        if (v instanceof PyCallable) return "function";
        return v.getClass().getSimpleName();
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof Integer i) return i != 0;
        if (v instanceof Number n) return n.doubleValue() != 0.0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof PyTuple t) return !t.items().isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    /** Python int (bool included, as in Python) or null when not an int. */
    static Long asLong(Object v) {
        if (v instanceof Long l) return l;
        if (v instanceof Integer i) return (long) i;
        if (v instanceof Boolean b) return b ? 1L : 0L;
        return null;
    }

    static boolean isNumber(Object v) { return v instanceof Number || v instanceof Boolean; }

    static double asDouble(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        return ((Number) v).doubleValue();
    }

    /** Normalises Java numbers coming from callers (Integer, Float) to Long and Double. */
    static Object normalize(Object v) {
        if (v instanceof Integer i) return (long) i;
        if (v instanceof Short s) return (long) s;
        if (v instanceof Float f) return (double) f;
        return v;
    }

    // ---- str() and repr()

    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined) return "";
        return repr(v);
    }

    static String repr(Object v) {
        v = normalize(v);
        if (v == null) return "None";
        if (v instanceof Undefined) return "Undefined";
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (v instanceof Long l) return Long.toString(l);
        if (v instanceof Double d) return floatRepr(d);
        if (v instanceof String s) return strRepr(s);
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(l.get(i)));
            return sb.append(']').toString();
        }
        if (v instanceof PyTuple t) {
            StringBuilder sb = new StringBuilder("(");
            List<Object> l = t.items();
            for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(l.get(i)));
            return sb.append(l.size() == 1 ? ",)" : ")").toString();
        }
        if (v instanceof Map<?, ?> m) return dictRepr(m);
        if (v instanceof Namespace ns) return "<Namespace " + dictRepr(ns.attrs) + ">";
        if (v instanceof PyCallable) return "<function>";
        return String.valueOf(v);
    }

    private static String dictRepr(Map<?, ?> m) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            sb.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
        }
        return sb.append('}').toString();
    }

    /** Python's repr(float): the shortest round-tripping digits, positional for 1e-4 <= |x| < 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = shortest(Math.abs(d));
        String digits = bd.unscaledValue().toString();
        int exp = digits.length() - 1 - bd.scale();
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mant = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
        int ae = Math.abs(exp);
        return sign + mant + "e" + (exp < 0 ? "-" : "+") + (ae < 10 ? "0" : "") + ae;
    }

    /**
     * The shortest decimal that parses back to d, the nearest one among equally short (what Python's
     * repr prints). Java 17's Double.toString is not always the shortest (1e23 prints 9.999999999999999E22).
     */
    private static BigDecimal shortest(double d) {
        BigDecimal exact = new BigDecimal(d);
        for (int p = 1; p < 17; p++) {
            BigDecimal r = exact.round(new java.math.MathContext(p, java.math.RoundingMode.HALF_EVEN));
            if (r.doubleValue() == d) return r.stripTrailingZeros();
        }
        return exact.round(new java.math.MathContext(17, java.math.RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }

    static String strRepr(String s) {
        char quote = (s.indexOf('\'') >= 0 && s.indexOf('"') < 0) ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        s.codePoints().forEach(cp -> {
            if (cp == quote || cp == '\\') sb.append('\\').appendCodePoint(cp);
            else if (cp == '\n') sb.append("\\n");
            else if (cp == '\r') sb.append("\\r");
            else if (cp == '\t') sb.append("\\t");
            else if (isPrintable(cp)) sb.appendCodePoint(cp);
            else if (cp <= 0xff) sb.append(String.format("\\x%02x", cp));
            else if (cp <= 0xffff) sb.append(String.format("\\u%04x", cp));
            else sb.append(String.format("\\U%08x", cp));
        });
        return sb.append(quote).toString();
    }

    /** Python's str.isprintable for one code point. */
    private static boolean isPrintable(int cp) {
        if (cp == ' ') return true;
        int t = Character.getType(cp);
        return !(t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE
                || t == Character.PRIVATE_USE || t == Character.UNASSIGNED || t == Character.LINE_SEPARATOR
                || t == Character.PARAGRAPH_SEPARATOR || t == Character.SPACE_SEPARATOR);
    }

    /** Python's str.isspace for one code point. */
    static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0
                || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029
                || cp == 0x202f || cp == 0x205f || cp == 0x3000;
    }

    // ---- equality and ordering

    static boolean eq(Object a, Object b) {
        a = normalize(a);
        b = normalize(b);
        if (a == null || b == null) return a == b;
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) {
            Long la = asLong(a), lb = asLong(b);
            if (la != null && lb != null) return la.longValue() == lb.longValue();
            return asDouble(a) == asDouble(b);
        }
        if (a instanceof String || b instanceof String) return a.equals(b);
        if (a instanceof List<?> x && b instanceof List<?> y) return seqEq(x, y);
        if (a instanceof PyTuple x && b instanceof PyTuple y) return seqEq(x.items(), y.items());
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) return false;
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) return false;
            }
            return true;
        }
        return a == b;
    }

    private static boolean seqEq(List<?> x, List<?> y) {
        if (x.size() != y.size()) return false;
        for (int i = 0; i < x.size(); i++) if (!eq(x.get(i), y.get(i))) return false;
        return true;
    }

    /** Python ordering (<): numbers, strings by code point, sequences lexicographically. */
    static int compare(Object a, Object b, String op) {
        a = normalize(a);
        b = normalize(b);
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        if (isNumber(a) && isNumber(b)) {
            Long la = asLong(a), lb = asLong(b);
            if (la != null && lb != null) return Long.compare(la, lb);
            return Double.compare(asDouble(a), asDouble(b));
        }
        if (a instanceof String x && b instanceof String y) return compareCodePoints(x, y);
        List<?> x = seq(a), y = seq(b);
        if (x != null && y != null && a.getClass() == b.getClass()) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) return compare(x.get(i), y.get(i), op);
            }
            return Integer.compare(x.size(), y.size());
        }
        throw new EvalError("'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    static int compareCodePoints(String x, String y) {
        int i = 0, j = 0;
        while (i < x.length() && j < y.length()) {
            int cx = x.codePointAt(i), cy = y.codePointAt(j);
            if (cx != cy) return Integer.compare(cx, cy);
            i += Character.charCount(cx);
            j += Character.charCount(cy);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    private static List<?> seq(Object v) {
        if (v instanceof List<?> l) return l;
        if (v instanceof PyTuple t) return t.items();
        return null;
    }

    // ---- containers

    static int len(Object v) {
        if (v instanceof String s) return s.codePointCount(0, s.length());
        if (v instanceof List<?> l) return l.size();
        if (v instanceof PyTuple t) return t.items().size();
        if (v instanceof Map<?, ?> m) return m.size();
        if (v instanceof Undefined) return 0;
        throw new EvalError("object of type '" + typeName(v) + "' has no len()");
    }

    /** The items a for loop (or list()) sees: list elements, dict keys, string characters. */
    static List<Object> iterate(Object v) {
        if (v instanceof List<?> l) return new ArrayList<>(l);
        if (v instanceof PyTuple t) return new ArrayList<>(t.items());
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        if (v instanceof String s) {
            List<Object> out = new ArrayList<>();
            s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
            return out;
        }
        if (v instanceof Undefined) return new ArrayList<>();
        throw new EvalError("'" + typeName(v) + "' object is not iterable");
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (item instanceof Undefined u) throw u.error();
            if (!(item instanceof String sub)) throw new EvalError("'in <string>' requires string as left operand, not " + typeName(item));
            return s.contains(sub);
        }
        if (container instanceof Map<?, ?> m) {
            if (item instanceof List || item instanceof Map || item instanceof Namespace) throw new EvalError("unhashable type: '" + typeName(item) + "'");
            return m.containsKey(mapKey(item));
        }
        if (container instanceof Undefined) return false;
        for (Object o : iterate(container)) if (eq(o, item)) return true;
        return false;
    }

    /** Dict keys are held as Long or String (what JSON and literals give). */
    static Object mapKey(Object k) { return normalize(k); }

    static String codePointAt(String s, long index) {
        int n = s.codePointCount(0, s.length());
        long i = index < 0 ? index + n : index;
        if (i < 0 || i >= n) return null;
        int off = s.offsetByCodePoints(0, (int) i);
        return new String(Character.toChars(s.codePointAt(off)));
    }

    /** obj[start:stop:step] with Python's slice semantics. */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        if (obj instanceof Undefined u) throw u.error();
        List<Object> items;
        if (obj instanceof String s) items = iterate(s);
        else if (obj instanceof List<?> l) items = new ArrayList<>(l);
        else if (obj instanceof PyTuple t) items = t.items();
        else throw new EvalError("'" + typeName(obj) + "' object is not subscriptable");
        int n = items.size();
        long st = step == null ? 1 : sliceIndex(step);
        if (st == 0) throw new EvalError("slice step cannot be zero");
        long lo, hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp(sliceIndex(start), n, 0, n);
            hi = stop == null ? n : clamp(sliceIndex(stop), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp(sliceIndex(start), n, -1, n - 1);
            hi = stop == null ? -1 : clamp(sliceIndex(stop), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        if (st > 0) for (long i = lo; i < hi; i += st) out.add(items.get((int) i));
        else for (long i = lo; i > hi; i += st) out.add(items.get((int) i));
        if (obj instanceof String) {
            StringBuilder sb = new StringBuilder();
            for (Object o : out) sb.append((String) o);
            return sb.toString();
        }
        if (obj instanceof PyTuple) return new PyTuple(out);
        return out;
    }

    private static long sliceIndex(Object v) {
        Long l = asLong(v);
        if (l == null) throw new EvalError("slice indices must be integers or None, not " + typeName(v));
        return l;
    }

    private static long clamp(long i, int n, long min, long max) {
        if (i < 0) i += n;
        return Math.max(min, Math.min(max, i));
    }

    // ---- arithmetic

    static Object add(Object a, Object b) {
        checkDefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            Long la = asLong(a), lb = asLong(b);
            if (la != null && lb != null) return Math.addExact(la, lb);
            return asDouble(a) + asDouble(b);
        }
        if (a instanceof String x && b instanceof String y) return x + y;
        if (a instanceof List<?> x && b instanceof List<?> y) {
            List<Object> out = new ArrayList<>(x);
            out.addAll(y);
            return out;
        }
        if (a instanceof PyTuple x && b instanceof PyTuple y) {
            List<Object> out = new ArrayList<>(x.items());
            out.addAll(y.items());
            return new PyTuple(out);
        }
        throw unsupported("+", a, b);
    }

    static Object arith(String op, Object a, Object b) {
        if (op.equals("+")) return add(a, b);
        checkDefined(a, b);
        if (op.equals("*")) {
            Long n = asLong(b);
            if (n != null && (a instanceof String || a instanceof List)) return repeat(a, n);
            n = asLong(a);
            if (n != null && (b instanceof String || b instanceof List)) return repeat(b, n);
        }
        if (op.equals("%") && a instanceof String) throw new EvalError("printf-style string formatting ('%') is not supported");
        if (!isNumber(a) || !isNumber(b)) throw unsupported(op, a, b);
        Long la = asLong(a), lb = asLong(b);
        boolean ints = la != null && lb != null;
        double x = asDouble(a), y = asDouble(b);
        switch (op) {
            case "-": return ints ? (Object) Math.subtractExact(la, lb) : (Object) (x - y);
            case "*": return ints ? (Object) Math.multiplyExact(la, lb) : (Object) (x * y);
            case "/":
                if (y == 0) throw new EvalError("division by zero");
                return x / y;
            case "//":
                if (y == 0) throw new EvalError("integer division or modulo by zero");
                return ints ? (Object) Math.floorDiv(la, lb) : (Object) Math.floor(x / y);
            case "%":
                if (y == 0) throw new EvalError("integer division or modulo by zero");
                if (ints) return Math.floorMod(la, lb);
                double m = x % y;
                if (m == 0) return Math.copySign(0.0, y);
                return ((m < 0) != (y < 0)) ? m + y : m;
            case "**":
                if (ints && lb >= 0) {
                    long r = 1;
                    for (long i = 0; i < lb; i++) r = Math.multiplyExact(r, la);
                    return r;
                }
                if (x == 0 && y < 0) throw new EvalError(ints ? "0 cannot be raised to a negative power" : "0.0 cannot be raised to a negative power");
                if (x < 0 && y != Math.rint(y)) throw new EvalError("a negative number to a fractional power is complex, which is not supported");
                return Math.pow(x, y);
            default: throw new EvalError("unknown operator " + op);
        }
    }

    private static Object repeat(Object v, long n) {
        if (n * (long) len(v) > 10_000_000) throw new EvalError("repetition result too large");
        if (v instanceof String s) return n <= 0 ? "" : s.repeat((int) n);
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.addAll((List<?>) v);
        return out;
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) throw u.error();
        Long l = asLong(v);
        if (l != null) return -l;
        if (v instanceof Double d) return -d;
        throw new EvalError("bad operand type for unary -: '" + typeName(v) + "'");
    }

    private static void checkDefined(Object a, Object b) {
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
    }

    private static EvalError unsupported(String op, Object a, Object b) {
        if (op.equals("+") && a instanceof String && !(b instanceof String))
            return new EvalError("can only concatenate str (not \"" + typeName(b) + "\") to str");
        return new EvalError("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    /** A copy of a caller's Java structure with Python-normalised numbers and ordered dicts. */
    static Object fromJava(Object v) {
        v = normalize(v);
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) out.put(mapKey(e.getKey()), fromJava(e.getValue()));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object o : l) out.add(fromJava(o));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            for (Iterator<?> i = it.iterator(); i.hasNext(); ) out.add(fromJava(i.next()));
            return out;
        }
        return v;
    }
}
