package org.dnonative.model.template;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The functions a chat template may call: Jinja2's range, namespace, dict, and transformers'
 * raise_exception and strftime_now. Nothing else is reachable.
 */
final class Globals {
    private Globals() {}

    /** Jinja2's sandbox refuses larger ranges (MAX_RANGE). */
    static final int MAX_RANGE = 100_000;

    static Map<String, Object> create(Supplier<ZonedDateTime> clock) {
        Map<String, Object> g = new HashMap<>();
        g.put("range", (PyCallable) (a, k) -> range(a));
        g.put("namespace", (PyCallable) (a, k) -> {
            Namespace ns = new Namespace();
            if (a.size() > 1) throw new EvalError("namespace() takes at most one positional argument");
            if (a.size() == 1) {
                if (!(a.get(0) instanceof Map<?, ?> m)) throw new EvalError("namespace() positional argument must be a dict");
                for (Map.Entry<?, ?> e : m.entrySet()) ns.attrs.put(Py.str(e.getKey()), e.getValue());
            }
            ns.attrs.putAll(k);
            return ns;
        });
        g.put("dict", (PyCallable) (a, k) -> {
            Map<Object, Object> d = new java.util.LinkedHashMap<>();
            if (a.size() == 1 && a.get(0) instanceof Map<?, ?> m) d.putAll(m);
            else if (!a.isEmpty()) throw new EvalError("dict() takes a mapping or keyword arguments");
            d.putAll(k);
            return d;
        });
        g.put("raise_exception", (PyCallable) (a, k) -> {
            throw new EvalError(a.isEmpty() ? "raise_exception() called" : Py.str(a.get(0)), true);
        });
        g.put("strftime_now", (PyCallable) (a, k) -> {
            if (a.size() != 1 || !(a.get(0) instanceof String fmt)) throw new EvalError("strftime_now takes one format string");
            return Strftime.format(fmt, clock.get());
        });
        return g;
    }

    private static List<Object> range(List<Object> a) {
        long start = 0, stop, step = 1;
        if (a.isEmpty() || a.size() > 3) throw new EvalError("range expected 1 to 3 arguments, got " + a.size());
        for (Object o : a) if (Py.asLong(o) == null) throw new EvalError("range() arguments must be integers, not " + Py.typeName(o));
        if (a.size() == 1) stop = Py.asLong(a.get(0));
        else {
            start = Py.asLong(a.get(0));
            stop = Py.asLong(a.get(1));
            if (a.size() == 3) step = Py.asLong(a.get(2));
        }
        if (step == 0) throw new EvalError("range() arg 3 must not be zero");
        long n = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
        if (n > MAX_RANGE) throw new EvalError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + MAX_RANGE + ").");
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.add(start + i * step);
        return out;
    }
}
