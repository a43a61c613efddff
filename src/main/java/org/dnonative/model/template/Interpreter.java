package org.dnonative.model.template;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a parsed template. Variables live in frames: each for-loop iteration and each macro call
 * gets a child frame (a {@code set} inside a loop does not leak out of it, which is why templates
 * use {@code namespace()}); {@code if} blocks share their enclosing frame. Values passed in are
 * data: strings are never parsed as template code.
 */
final class Interpreter {
    private static final int MAX_MACRO_DEPTH = 200;
    private static final int MAX_OUTPUT_CHARS = 64 << 20;

    private final String source;
    private final Map<String, Object> globals;
    private int macroDepth;

    private enum Signal { NONE, BREAK, CONTINUE }

    private static final class Frame {
        final Frame parent;
        final Map<String, Object> vars = new HashMap<>();

        Frame(Frame parent) { this.parent = parent; }

        Frame find(String name) {
            for (Frame f = this; f != null; f = f.parent) if (f.vars.containsKey(name)) return f;
            return null;
        }
    }

    Interpreter(String source, Map<String, Object> globals) {
        this.source = source;
        this.globals = globals;
    }

    String render(List<Node> body, Map<String, Object> vars) {
        Frame root = new Frame(null);
        for (Map.Entry<String, Object> e : vars.entrySet()) root.vars.put(e.getKey(), Py.fromJava(e.getValue()));
        StringBuilder out = new StringBuilder();
        Signal s;
        try {
            s = exec(body, root, out);
        } catch (StackOverflowError e) {
            // only a value that contains itself (a namespace assigned into itself) gets here: the parser bounds nesting
            throw new TemplateException(source, 0, "a value nested too deeply to render (does a namespace contain itself?)", false);
        }
        if (s != Signal.NONE) throw new TemplateException(source, 0, "break or continue outside a loop", false);
        return out.toString();
    }

    private TemplateException wrap(Node n, EvalError e) {
        return new TemplateException(source, n.line(), e.getMessage(), e.raised);
    }

    // ---- statements

    private Signal exec(List<Node> body, Frame f, StringBuilder out) {
        for (Node n : body) {
            Signal s;
            try {
                s = exec(n, f, out);
            } catch (EvalError e) {
                throw wrap(n, e);
            } catch (ArithmeticException e) {
                throw new TemplateException(source, n.line(), "integer overflow", false);
            }
            if (s != Signal.NONE) return s;
            if (out.length() > MAX_OUTPUT_CHARS) throw new TemplateException(source, n.line(), "output exceeds " + MAX_OUTPUT_CHARS + " characters", false);
        }
        return Signal.NONE;
    }

    private Signal exec(Node n, Frame f, StringBuilder out) {
        if (n instanceof Node.Text t) out.append(t.text());
        else if (n instanceof Node.Print p) out.append(Py.str(eval(p.expr(), f)));
        else if (n instanceof Node.If s) {
            for (int i = 0; i < s.conditions().size(); i++) {
                if (Py.truthy(eval(s.conditions().get(i), f))) return exec(s.bodies().get(i), f, out);
            }
            return exec(s.orElse(), f, out);
        } else if (n instanceof Node.For s) return execFor(s, f, out);
        else if (n instanceof Node.Set s) assign(s.targets(), eval(s.value(), f), f);
        else if (n instanceof Node.SetAttr s) {
            Frame owner = f.find(s.namespace());
            Object ns = owner != null ? owner.vars.get(s.namespace()) : globals.get(s.namespace());
            if (!(ns instanceof Namespace namespace)) throw new EvalError("cannot assign attribute on non-namespace object '" + s.namespace() + "'");
            namespace.attrs.put(s.attr(), eval(s.value(), f));
        } else if (n instanceof Node.SetBlock s) {
            StringBuilder b = new StringBuilder();
            exec(s.body(), f, b);
            f.vars.put(s.target(), b.toString());
        } else if (n instanceof Node.Macro m) f.vars.put(m.name(), macro(m, f));
        else if (n instanceof Node.Break) return Signal.BREAK;
        else if (n instanceof Node.Continue) return Signal.CONTINUE;
        else if (n instanceof Node.Generation g) return exec(g.body(), f, out);
        else if (n instanceof Node.FilterBlock fb) {
            StringBuilder b = new StringBuilder();
            exec(fb.body(), f, b);
            out.append(Py.str(applyFilter(fb.filter(), b.toString(), f)));
        } else throw new EvalError("cannot execute " + n.getClass().getSimpleName());
        return Signal.NONE;
    }

    private Signal execFor(Node.For s, Frame f, StringBuilder out) {
        List<Object> items = Py.iterate(eval(s.iter(), f));
        if (s.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Frame probe = new Frame(f);
                assign(s.targets(), item, probe);
                if (Py.truthy(eval(s.filter(), probe))) kept.add(item);
            }
            items = kept;
        }
        if (items.isEmpty()) return exec(s.orElse(), new Frame(f), out);
        LoopInfo loop = new LoopInfo(items);
        for (int i = 0; i < items.size(); i++) {
            loop.index0 = i;
            Frame it = new Frame(f);
            assign(s.targets(), items.get(i), it);
            it.vars.put("loop", loop);
            if (exec(s.body(), it, out) == Signal.BREAK) break;
        }
        return Signal.NONE;
    }

    private void assign(List<String> targets, Object value, Frame f) {
        if (targets.size() == 1) {
            f.vars.put(targets.get(0), value);
            return;
        }
        List<Object> items = Py.iterate(value);
        if (items.size() != targets.size())
            throw new EvalError((items.size() > targets.size() ? "too many" : "not enough") + " values to unpack (expected "
                    + targets.size() + ", got " + items.size() + ")");
        for (int i = 0; i < targets.size(); i++) f.vars.put(targets.get(i), items.get(i));
    }

    private PyCallable macro(Node.Macro m, Frame defining) {
        int firstDefault = m.params().size() - m.defaults().size();
        return (args, kwargs) -> {
            if (args.size() > m.params().size())
                throw new EvalError("macro '" + m.name() + "' takes not more than " + m.params().size() + " argument(s)");
            macroDepth++;
            try {
                if (macroDepth > MAX_MACRO_DEPTH) throw new EvalError("macro calls nested deeper than " + MAX_MACRO_DEPTH);
                Frame call = new Frame(defining);
                for (String k : kwargs.keySet())
                    if (!m.params().contains(k)) throw new EvalError("macro '" + m.name() + "' takes no keyword argument '" + k + "'");
                for (int i = 0; i < m.params().size(); i++) {
                    String p = m.params().get(i);
                    Object v;
                    if (i < args.size()) v = args.get(i);
                    else if (kwargs.containsKey(p)) v = kwargs.get(p);
                    else if (i >= firstDefault) v = eval(m.defaults().get(i - firstDefault), call);
                    else v = new Undefined("parameter '" + p + "' was not provided");
                    call.vars.put(p, v);
                }
                StringBuilder b = new StringBuilder();
                exec(m.body(), call, b);
                return b.toString();
            } finally {
                macroDepth--;
            }
        };
    }

    // ---- expressions

    private Object eval(Node n, Frame f) {
        try {
            return evalNode(n, f);
        } catch (EvalError e) {
            throw wrap(n, e);
        } catch (ArithmeticException e) {
            throw new TemplateException(source, n.line(), "integer overflow", false);
        }
    }

    private Object evalNode(Node n, Frame f) {
        if (n instanceof Node.Literal l) return l.value();
        if (n instanceof Node.Name nm) {
            Frame owner = f.find(nm.name());
            if (owner != null) return owner.vars.get(nm.name());
            if (globals.containsKey(nm.name())) return globals.get(nm.name());
            return new Undefined("'" + nm.name() + "' is undefined");
        }
        if (n instanceof Node.GetAttr g) return Access.getattr(eval(g.obj(), f), g.name());
        if (n instanceof Node.GetItem g) return Access.getitem(eval(g.obj(), f), eval(g.key(), f));
        if (n instanceof Node.Slice s) {
            return Py.slice(eval(s.obj(), f), opt(s.start(), f), opt(s.stop(), f), opt(s.step(), f));
        }
        if (n instanceof Node.Filter fl) return applyFilter(fl, eval(fl.value(), f), f);
        if (n instanceof Node.Test t) {
            Object v = eval(t.value(), f);
            List<Object> args = new ArrayList<>();
            for (Node a : t.args()) args.add(eval(a, f));
            return Tests.apply(t.name(), v, args) != t.negated();
        }
        if (n instanceof Node.Call c) {
            Object fn = eval(c.fn(), f);
            if (fn instanceof Undefined u) throw u.error();
            if (!(fn instanceof PyCallable callable)) throw new EvalError("'" + Py.typeName(fn) + "' object is not callable");
            List<Object> args = new ArrayList<>();
            for (Node a : c.args()) args.add(eval(a, f));
            return callable.call(args, kwargs(c.kwNames(), c.kwValues(), f));
        }
        if (n instanceof Node.Not x) return !Py.truthy(eval(x.operand(), f));
        if (n instanceof Node.And x) {
            Object l = eval(x.left(), f);
            return Py.truthy(l) ? eval(x.right(), f) : l;
        }
        if (n instanceof Node.Or x) {
            Object l = eval(x.left(), f);
            return Py.truthy(l) ? l : eval(x.right(), f);
        }
        if (n instanceof Node.CondExpr c) {
            if (Py.truthy(eval(c.cond(), f))) return eval(c.then(), f);
            if (c.orElse() == null) return new Undefined("the inline if-expression on line " + c.line() + " evaluated to false and no else section was defined");
            return eval(c.orElse(), f);
        }
        if (n instanceof Node.Compare c) {
            Object left = eval(c.first(), f);
            for (int i = 0; i < c.ops().size(); i++) {
                Object right = eval(c.rest().get(i), f);
                if (!compare(c.ops().get(i), left, right)) return false;
                left = right;
            }
            return true;
        }
        if (n instanceof Node.Binary b) {
            Object l = eval(b.left(), f), r = eval(b.right(), f);
            if (b.op().equals("~")) return Py.str(l) + Py.str(r);
            return Py.arith(b.op(), l, r);
        }
        if (n instanceof Node.Unary u) {
            Object v = eval(u.operand(), f);
            if (u.op().equals("-")) return Py.negate(v);
            if (v instanceof Undefined un) throw un.error();
            if (!Py.isNumber(v)) throw new EvalError("bad operand type for unary +: '" + Py.typeName(v) + "'");
            return v instanceof Boolean ? Py.asLong(v) : v;
        }
        if (n instanceof Node.ListExpr l) {
            List<Object> out = new ArrayList<>();
            for (Node x : l.items()) out.add(eval(x, f));
            return out;
        }
        if (n instanceof Node.TupleExpr t) {
            List<Object> out = new ArrayList<>();
            for (Node x : t.items()) out.add(eval(x, f));
            return new PyTuple(out);
        }
        if (n instanceof Node.DictExpr d) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < d.keys().size(); i++) out.put(Py.mapKey(eval(d.keys().get(i), f)), eval(d.values().get(i), f));
            return out;
        }
        throw new EvalError("cannot evaluate " + n.getClass().getSimpleName());
    }

    private Object opt(Node n, Frame f) { return n == null ? null : eval(n, f); }

    private Map<String, Object> kwargs(List<String> names, List<Node> values, Frame f) {
        Map<String, Object> kw = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) kw.put(names.get(i), eval(values.get(i), f));
        return kw;
    }

    private Object applyFilter(Node.Filter fl, Object value, Frame f) {
        List<Object> args = new ArrayList<>();
        for (Node a : fl.args()) args.add(eval(a, f));
        try {
            return Filters.apply(fl.name(), value, args, kwargs(fl.kwNames(), fl.kwValues(), f));
        } catch (EvalError e) {
            throw new TemplateException(source, fl.line(), "filter '" + fl.name() + "': " + e.getMessage(), e.raised);
        }
    }

    private static boolean compare(String op, Object l, Object r) {
        return switch (op) {
            case "==" -> Py.eq(l, r);
            case "!=" -> !Py.eq(l, r);
            case "<" -> Py.compare(l, r, op) < 0;
            case ">" -> Py.compare(l, r, op) > 0;
            case "<=" -> Py.compare(l, r, op) <= 0;
            case ">=" -> Py.compare(l, r, op) >= 0;
            case "in" -> Py.contains(r, l);
            case "notin" -> !Py.contains(r, l);
            default -> throw new EvalError("unknown comparison " + op);
        };
    }
}
