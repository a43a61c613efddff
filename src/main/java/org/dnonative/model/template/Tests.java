package org.dnonative.model.template;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja2's tests ({@code x is defined}, {@code x is string}, ...) with Python's type checks. */
final class Tests {
    private Tests() {}

    private static final Set<String> NAMES = Set.of("defined", "undefined", "none", "boolean", "false", "true",
            "integer", "float", "number", "string", "mapping", "iterable", "sequence", "callable", "sameas",
            "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=",
            "in", "odd", "even", "divisibleby", "lower", "upper", "escaped", "filter", "test");

    static boolean exists(String name) { return NAMES.contains(name); }

    static boolean apply(String name, Object v, List<Object> args) {
        switch (name) {
            case "defined": return !(v instanceof Undefined);
            case "undefined": return v instanceof Undefined;
            case "none": return v == null;
            case "boolean": return v instanceof Boolean;
            case "false": return Boolean.FALSE.equals(v);
            case "true": return Boolean.TRUE.equals(v);
            case "integer": return v instanceof Long || v instanceof Integer;
            case "float": return v instanceof Double || v instanceof Float;
            case "number": return Py.isNumber(v);
            case "string": return v instanceof String;
            case "mapping": return v instanceof Map;
            case "iterable": return v instanceof String || v instanceof List || v instanceof PyTuple || v instanceof Map || v instanceof Undefined;
            case "sequence": return v instanceof String || v instanceof List || v instanceof PyTuple || v instanceof Map || v instanceof Undefined;
            case "callable": return v instanceof PyCallable;
            case "escaped": return false;
            case "filter": return Filters.exists(Py.str(arg(args, name)));
            case "test": return exists(Py.str(arg(args, name)));
            case "sameas": {
                Object o = arg(args, name);
                if (v == null || o == null || v instanceof Boolean || o instanceof Boolean) return v == o || (v != null && v.equals(o));
                return v == o;
            }
            case "eq", "equalto", "==": return Py.eq(v, arg(args, name));
            case "ne", "!=": return !Py.eq(v, arg(args, name));
            case "lt", "lessthan", "<": return Py.compare(v, arg(args, name), "<") < 0;
            case "le", "<=": return Py.compare(v, arg(args, name), "<=") <= 0;
            case "gt", "greaterthan", ">": return Py.compare(v, arg(args, name), ">") > 0;
            case "ge", ">=": return Py.compare(v, arg(args, name), ">=") >= 0;
            case "in": return Py.contains(arg(args, name), v);
            case "odd": return Py.eq(Py.arith("%", v, 2L), 1L);
            case "even": return Py.eq(Py.arith("%", v, 2L), 0L);
            case "divisibleby": return Py.eq(Py.arith("%", v, arg(args, name)), 0L);
            case "lower": return PyStrings.isLower(Py.str(v));
            case "upper": return PyStrings.isUpper(Py.str(v));
            default: throw new EvalError("no test named '" + name + "'");
        }
    }

    private static Object arg(List<Object> args, String test) {
        if (args.isEmpty()) throw new EvalError("test '" + test + "' needs an argument");
        return args.get(0);
    }
}
