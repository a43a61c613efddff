package org.dnonative.model.template;

import java.util.List;
import java.util.Map;

/** Something a template may call: a global (range, namespace), a macro, or a bound str/dict method. */
interface PyCallable {
    Object call(List<Object> args, Map<String, Object> kwargs);

    static Object arg(List<Object> args, Map<String, Object> kwargs, int i, String name, Object dflt) {
        if (i < args.size()) return args.get(i);
        if (kwargs.containsKey(name)) return kwargs.get(name);
        return dflt;
    }
}
