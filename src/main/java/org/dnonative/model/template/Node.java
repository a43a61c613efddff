package org.dnonative.model.template;

import java.util.List;

/** The template's syntax tree: statements and expressions, each with the source line it came from. */
sealed interface Node {
    int line();

    // ---- statements

    record Text(int line, String text) implements Node {}

    record Print(int line, Node expr) implements Node {}

    record If(int line, List<Node> conditions, List<List<Node>> bodies, List<Node> orElse) implements Node {}

    record For(int line, List<String> targets, Node iter, Node filter, List<Node> body, List<Node> orElse) implements Node {}

    record Set(int line, List<String> targets, Node value) implements Node {}

    record SetAttr(int line, String namespace, String attr, Node value) implements Node {}

    record SetBlock(int line, String target, List<Node> body) implements Node {}

    record Macro(int line, String name, List<String> params, List<Node> defaults, List<Node> body) implements Node {}

    record Break(int line) implements Node {}

    record Continue(int line) implements Node {}

    /** transformers' {% generation %}: renders its body (the assistant mask is not computed here). */
    record Generation(int line, List<Node> body) implements Node {}

    /** {% filter name(args) %}body{% endfilter %}: the filter's first argument is the rendered body. */
    record FilterBlock(int line, Filter filter, List<Node> body) implements Node {}

    // ---- expressions

    record Literal(int line, Object value) implements Node {}

    record Name(int line, String name) implements Node {}

    record ListExpr(int line, List<Node> items) implements Node {}

    record TupleExpr(int line, List<Node> items) implements Node {}

    record DictExpr(int line, List<Node> keys, List<Node> values) implements Node {}

    record GetAttr(int line, Node obj, String name) implements Node {}

    record GetItem(int line, Node obj, Node key) implements Node {}

    record Slice(int line, Node obj, Node start, Node stop, Node step) implements Node {}

    record Call(int line, Node fn, List<Node> args, List<String> kwNames, List<Node> kwValues) implements Node {}

    /** value | name(args); value is null inside a {% filter %} block. */
    record Filter(int line, Node value, String name, List<Node> args, List<String> kwNames, List<Node> kwValues) implements Node {}

    record Test(int line, Node value, String name, List<Node> args, boolean negated) implements Node {}

    record Unary(int line, String op, Node operand) implements Node {}

    record Binary(int line, String op, Node left, Node right) implements Node {}

    /** a op1 b op2 c: chained as in Python. */
    record Compare(int line, Node first, List<String> ops, List<Node> rest) implements Node {}

    record And(int line, Node left, Node right) implements Node {}

    record Or(int line, Node left, Node right) implements Node {}

    record Not(int line, Node operand) implements Node {}

    /** then if cond else orElse; orElse null means Undefined. */
    record CondExpr(int line, Node cond, Node then, Node orElse) implements Node {}
}
