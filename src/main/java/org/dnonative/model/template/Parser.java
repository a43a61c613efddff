package org.dnonative.model.template;

import org.dnonative.model.template.Lexer.Kind;
import org.dnonative.model.template.Lexer.Token;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Jinja2's grammar (the subset chat templates use) to a {@link Node} tree. Precedence is Jinja2's:
 * filters and tests bind tighter than unary minus' result and every binary operator, so
 * {@code not x is defined} is {@code not (x is defined)} and {@code a + b | trim} trims b only.
 * Unknown tags, filters and tests are errors here, before anything renders.
 */
final class Parser {
    private final List<Token> toks;
    private final String name;
    private int i;
    private int depth;

    /** Deeper nesting than any real template; bounds the recursion so a hostile template cannot overflow the stack. */
    static final int MAX_NESTING = 100;

    private static final Set<String> UNSUPPORTED_TAGS = Set.of("include", "import", "from", "extends", "block",
            "call", "with", "autoescape", "do", "trans", "recursive");

    private Parser(List<Token> toks, String name) {
        this.toks = toks;
        this.name = name;
    }

    static List<Node> parse(String source, String name) {
        Parser p = new Parser(Lexer.tokenize(source, name), name);
        List<Node> body = p.statements(Set.of());
        if (p.peek().kind() != Kind.EOF) {
            Token t = p.toks.get(p.i + 1);
            throw p.error(t, "unexpected '" + t.text() + "' (no block is open)");
        }
        return body;
    }

    // ---- token helpers

    private Token peek() { return toks.get(i); }

    private Token peek(int ahead) { return toks.get(Math.min(i + ahead, toks.size() - 1)); }

    private Token next() { return toks.get(i++); }

    private TemplateException error(Token t, String msg) { return new TemplateException(name, t.line(), msg, false); }

    private Token expect(Kind k, String text) {
        Token t = next();
        if (t.kind() != k || (text != null && !t.text().equals(text)))
            throw error(t, "expected " + (text != null ? "'" + text + "'" : k.name().toLowerCase()) + ", got '" + show(t) + "'");
        return t;
    }

    private static String show(Token t) { return t.kind() == Kind.EOF ? "end of template" : t.text(); }

    private boolean acceptOp(String op) {
        if (peek().isOp(op)) { i++; return true; }
        return false;
    }

    private boolean acceptName(String n) {
        if (peek().isName(n)) { i++; return true; }
        return false;
    }

    private String expectName() { return expect(Kind.NAME, null).text(); }

    // ---- statements

    /** Statements until a block tag whose name is in {@code end} (left unconsumed, at its BLOCK_BEGIN) or EOF. */
    private List<Node> statements(Set<String> end) {
        enter();
        try {
            return statementsUntil(end);
        } finally {
            depth--;
        }
    }

    private void enter() {
        if (++depth > MAX_NESTING) throw error(peek(), "blocks or expressions nested deeper than " + MAX_NESTING);
    }

    private List<Node> statementsUntil(Set<String> end) {
        List<Node> body = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.EOF) {
                if (!end.isEmpty()) {
                    List<String> tags = new ArrayList<>();
                    for (String e : end) tags.add("'" + e + "'");
                    java.util.Collections.sort(tags);
                    throw error(t, "unexpected end of template: a block is never closed (expected " + String.join(" or ", tags) + ")");
                }
                return body;
            }
            if (t.kind() == Kind.TEXT) { i++; body.add(new Node.Text(t.line(), t.text())); continue; }
            if (t.kind() == Kind.VAR_BEGIN) {
                i++;
                Node e = tuple(true);
                expect(Kind.VAR_END, null);
                body.add(new Node.Print(t.line(), e));
                continue;
            }
            Token tag = peek(1);
            if (tag.kind() == Kind.NAME && end.contains(tag.text())) return body;
            i++;
            body.add(statement());
        }
    }

    private void endTag(String n) {
        expect(Kind.BLOCK_BEGIN, null);
        expect(Kind.NAME, n);
        expect(Kind.BLOCK_END, null);
    }

    private Node statement() {
        Token tag = next();
        if (tag.kind() != Kind.NAME) throw error(tag, "expected a tag name, got '" + show(tag) + "'");
        int line = tag.line();
        switch (tag.text()) {
            case "if": return ifStatement(line);
            case "for": return forStatement(line);
            case "set": return setStatement(line);
            case "macro": return macro(line);
            case "break": expect(Kind.BLOCK_END, null); return new Node.Break(line);
            case "continue": expect(Kind.BLOCK_END, null); return new Node.Continue(line);
            case "generation": {
                expect(Kind.BLOCK_END, null);
                List<Node> body = statements(Set.of("endgeneration"));
                endTag("endgeneration");
                return new Node.Generation(line, body);
            }
            case "filter": {
                Node.Filter f = filterCall(null, line);
                if (peek().isOp("|")) throw error(peek(), "chained filters in a filter block are not supported");
                expect(Kind.BLOCK_END, null);
                List<Node> body = statements(Set.of("endfilter"));
                endTag("endfilter");
                return new Node.FilterBlock(line, f, body);
            }
            default:
                if (UNSUPPORTED_TAGS.contains(tag.text())) throw error(tag, "tag '" + tag.text() + "' is not supported in chat templates");
                throw error(tag, "unknown tag '" + tag.text() + "'");
        }
    }

    private Node ifStatement(int line) {
        List<Node> conds = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> orElse = List.of();
        conds.add(expression(false));
        expect(Kind.BLOCK_END, null);
        while (true) {
            bodies.add(statements(Set.of("elif", "else", "endif")));
            expect(Kind.BLOCK_BEGIN, null);
            String t = expectName();
            if (t.equals("elif")) {
                conds.add(expression(false));
                expect(Kind.BLOCK_END, null);
            } else if (t.equals("else")) {
                expect(Kind.BLOCK_END, null);
                orElse = statements(Set.of("endif"));
                endTag("endif");
                break;
            } else {
                expect(Kind.BLOCK_END, null);
                break;
            }
        }
        return new Node.If(line, conds, bodies, orElse);
    }

    private Node forStatement(int line) {
        List<String> targets = targetNames();
        expect(Kind.NAME, "in");
        Node iter = expression(false);
        Node filter = null;
        if (acceptName("if")) filter = expression(true);
        if (peek().isName("recursive")) throw error(peek(), "recursive for loops are not supported");
        expect(Kind.BLOCK_END, null);
        List<Node> body = statements(Set.of("else", "endfor"));
        List<Node> orElse = List.of();
        expect(Kind.BLOCK_BEGIN, null);
        if (expectName().equals("else")) {
            expect(Kind.BLOCK_END, null);
            orElse = statements(Set.of("endfor"));
            endTag("endfor");
        } else expect(Kind.BLOCK_END, null);
        return new Node.For(line, targets, iter, filter, body, orElse);
    }

    private List<String> targetNames() {
        List<String> names = new ArrayList<>();
        boolean paren = acceptOp("(");
        do {
            names.add(expectName());
        } while (acceptOp(",") && peek().kind() == Kind.NAME);
        if (paren) expect(Kind.OP, ")");
        return names;
    }

    private Node setStatement(int line) {
        if (peek().kind() == Kind.NAME && peek(1).isOp(".")) {
            String ns = expectName();
            expect(Kind.OP, ".");
            String attr = expectName();
            expect(Kind.OP, "=");
            Node v = tuple(true);
            expect(Kind.BLOCK_END, null);
            return new Node.SetAttr(line, ns, attr, v);
        }
        List<String> targets = targetNames();
        if (acceptOp("=")) {
            Node v = tuple(true);
            expect(Kind.BLOCK_END, null);
            return new Node.Set(line, targets, v);
        }
        if (targets.size() != 1) throw error(peek(), "a block set takes one name");
        if (peek().isOp("|")) throw error(peek(), "filters on a block set are not supported");
        expect(Kind.BLOCK_END, null);
        List<Node> body = statements(Set.of("endset"));
        endTag("endset");
        return new Node.SetBlock(line, targets.get(0), body);
    }

    private Node macro(int line) {
        String n = expectName();
        List<String> params = new ArrayList<>();
        List<Node> defaults = new ArrayList<>();
        expect(Kind.OP, "(");
        while (!peek().isOp(")")) {
            if (!params.isEmpty()) expect(Kind.OP, ",");
            if (peek().isOp(")")) break;
            params.add(expectName());
            if (acceptOp("=")) defaults.add(expression(true));
            else if (!defaults.isEmpty()) throw error(peek(), "non-default argument follows default argument");
        }
        expect(Kind.OP, ")");
        expect(Kind.BLOCK_END, null);
        List<Node> body = statements(Set.of("endmacro"));
        expect(Kind.BLOCK_BEGIN, null);
        expect(Kind.NAME, "endmacro");
        if (peek().kind() == Kind.NAME) i++;
        expect(Kind.BLOCK_END, null);
        return new Node.Macro(line, n, params, defaults, body);
    }

    // ---- expressions

    /** A tuple without parentheses (a, b) or a single expression. */
    private Node tuple(boolean condExpr) {
        int line = peek().line();
        Node first = expression(condExpr);
        if (!peek().isOp(",")) return first;
        List<Node> items = new ArrayList<>(List.of(first));
        while (acceptOp(",")) {
            if (atExpressionEnd()) break;
            items.add(expression(condExpr));
        }
        return new Node.TupleExpr(line, items);
    }

    private boolean atExpressionEnd() {
        Token t = peek();
        return t.kind() == Kind.VAR_END || t.kind() == Kind.BLOCK_END || t.isOp(")") || t.isOp("]") || t.isOp("}");
    }

    private Node expression(boolean condExpr) {
        enter();
        try {
            return condExpr ? condExpr() : or();
        } finally {
            depth--;
        }
    }

    private Node condExpr() {
        Node e = or();
        while (peek().isName("if")) {
            int line = next().line();
            Node cond = or();
            Node orElse = acceptName("else") ? condExpr() : null;
            e = new Node.CondExpr(line, cond, e, orElse);
        }
        return e;
    }

    private Node or() {
        Node e = and();
        while (peek().isName("or")) { int l = next().line(); e = new Node.Or(l, e, and()); }
        return e;
    }

    private Node and() {
        Node e = not();
        while (peek().isName("and")) { int l = next().line(); e = new Node.And(l, e, not()); }
        return e;
    }

    private Node not() {
        if (peek().isName("not")) {
            int l = next().line();
            enter();
            try {
                return new Node.Not(l, not());
            } finally {
                depth--;
            }
        }
        return compare();
    }

    private Node compare() {
        int line = peek().line();
        Node first = math1();
        List<String> ops = new ArrayList<>();
        List<Node> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && Set.of("==", "!=", "<", ">", "<=", ">=").contains(t.text())) {
                i++;
                ops.add(t.text());
            } else if (t.isName("in")) {
                i++;
                ops.add("in");
            } else if (t.isName("not") && peek(1).isName("in")) {
                i += 2;
                ops.add("notin");
            } else break;
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Node.Compare(line, first, ops, rest);
    }

    private Node math1() {
        Node e = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Token op = next();
            e = new Node.Binary(op.line(), op.text(), e, concat());
        }
        return e;
    }

    private Node concat() {
        Node e = math2();
        while (peek().isOp("~")) {
            Token op = next();
            e = new Node.Binary(op.line(), "~", e, math2());
        }
        return e;
    }

    private Node math2() {
        Node e = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Token op = next();
            e = new Node.Binary(op.line(), op.text(), e, pow());
        }
        return e;
    }

    private Node pow() {
        Node e = unary(true);
        while (peek().isOp("**")) {
            Token op = next();
            e = new Node.Binary(op.line(), "**", e, unary(true));
        }
        return e;
    }

    private Node unary(boolean withFilter) {
        enter();
        try {
            return unaryExpr(withFilter);
        } finally {
            depth--;
        }
    }

    private Node unaryExpr(boolean withFilter) {
        Token t = peek();
        Node e;
        if (t.isOp("-")) { i++; e = new Node.Unary(t.line(), "-", unary(false)); }
        else if (t.isOp("+")) { i++; e = new Node.Unary(t.line(), "+", unary(false)); }
        else e = postfix(primary());
        return withFilter ? filterAndTests(e) : e;
    }

    private Node primary() {
        Token t = next();
        switch (t.kind()) {
            case NAME:
                switch (t.text()) {
                    case "true", "True": return new Node.Literal(t.line(), true);
                    case "false", "False": return new Node.Literal(t.line(), false);
                    case "none", "None": return new Node.Literal(t.line(), null);
                    default: return new Node.Name(t.line(), t.text());
                }
            case STRING: {
                StringBuilder sb = new StringBuilder((String) t.value());
                while (peek().kind() == Kind.STRING) sb.append((String) next().value());
                return new Node.Literal(t.line(), sb.toString());
            }
            case INT, FLOAT: return new Node.Literal(t.line(), t.value());
            case OP:
                if (t.text().equals("(")) {
                    if (acceptOp(")")) return new Node.TupleExpr(t.line(), List.of());
                    Node e = expression(true);
                    if (peek().isOp(",")) {
                        List<Node> items = new ArrayList<>(List.of(e));
                        while (acceptOp(",")) {
                            if (peek().isOp(")")) break;
                            items.add(expression(true));
                        }
                        e = new Node.TupleExpr(t.line(), items);
                    }
                    expect(Kind.OP, ")");
                    return e;
                }
                if (t.text().equals("[")) {
                    List<Node> items = new ArrayList<>();
                    while (!peek().isOp("]")) {
                        if (!items.isEmpty()) expect(Kind.OP, ",");
                        if (peek().isOp("]")) break;
                        items.add(expression(true));
                    }
                    expect(Kind.OP, "]");
                    return new Node.ListExpr(t.line(), items);
                }
                if (t.text().equals("{")) {
                    List<Node> keys = new ArrayList<>(), values = new ArrayList<>();
                    while (!peek().isOp("}")) {
                        if (!keys.isEmpty()) expect(Kind.OP, ",");
                        if (peek().isOp("}")) break;
                        keys.add(expression(true));
                        expect(Kind.OP, ":");
                        values.add(expression(true));
                    }
                    expect(Kind.OP, "}");
                    return new Node.DictExpr(t.line(), keys, values);
                }
                // fall through
            default:
                throw error(t, "unexpected '" + show(t) + "'");
        }
    }

    private Node postfix(Node e) {
        while (true) {
            Token t = peek();
            if (t.isOp(".")) {
                i++;
                Token a = next();
                if (a.kind() == Kind.NAME) e = new Node.GetAttr(a.line(), e, a.text());
                else if (a.kind() == Kind.INT) e = new Node.GetItem(a.line(), e, new Node.Literal(a.line(), a.value()));
                else throw error(a, "expected an attribute name after '.', got '" + show(a) + "'");
            } else if (t.isOp("[")) {
                i++;
                e = subscript(e, t.line());
            } else if (t.isOp("(")) {
                i++;
                e = call(e, t.line());
            } else return e;
        }
    }

    private Node subscript(Node obj, int line) {
        Node[] parts = new Node[3];
        int part = 0;
        boolean isSlice = false;
        while (!peek().isOp("]")) {
            if (peek().isOp(":")) {
                i++;
                isSlice = true;
                if (++part > 2) throw error(peek(), "too many ':' in a slice");
                continue;
            }
            if (parts[part] != null) throw error(peek(), "expected ':' or ']' in a subscript");
            parts[part] = expression(true);
        }
        expect(Kind.OP, "]");
        if (!isSlice) {
            if (parts[0] == null) throw error(peek(), "empty subscript");
            return new Node.GetItem(line, obj, parts[0]);
        }
        return new Node.Slice(line, obj, parts[0], parts[1], parts[2]);
    }

    private Node.Call call(Node fn, int line) {
        List<Node> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Node> kwValues = new ArrayList<>();
        callArgs(args, kwNames, kwValues);
        return new Node.Call(line, fn, args, kwNames, kwValues);
    }

    /** After '(' up to and including ')'. */
    private void callArgs(List<Node> args, List<String> kwNames, List<Node> kwValues) {
        boolean first = true;
        while (!peek().isOp(")")) {
            if (!first) expect(Kind.OP, ",");
            first = false;
            if (peek().isOp(")")) break;
            if (peek().isOp("*") || peek().isOp("**")) throw error(peek(), "*args and **kwargs in calls are not supported");
            if (peek().kind() == Kind.NAME && peek(1).isOp("=")) {
                kwNames.add(next().text());
                i++;
                kwValues.add(expression(true));
            } else {
                if (!kwNames.isEmpty()) throw error(peek(), "positional argument follows keyword argument");
                args.add(expression(true));
            }
        }
        expect(Kind.OP, ")");
    }

    private Node filterAndTests(Node e) {
        while (true) {
            if (peek().isOp("|")) {
                int line = next().line();
                e = filterCall(e, line);
            } else if (peek().isName("is")) {
                int line = next().line();
                boolean negated = acceptName("not");
                Token n = expect(Kind.NAME, null);
                String test = n.text();
                if (!Tests.exists(test)) throw error(n, "no test named '" + test + "'");
                List<Node> args = new ArrayList<>();
                Token t = peek();
                if (t.isOp("(")) {
                    i++;
                    List<String> kw = new ArrayList<>();
                    callArgs(args, kw, new ArrayList<>());
                    if (!kw.isEmpty()) throw error(t, "keyword arguments to tests are not supported");
                } else if ((t.kind() == Kind.NAME || t.kind() == Kind.STRING || t.kind() == Kind.INT || t.kind() == Kind.FLOAT
                        || t.isOp("[") || t.isOp("{")) && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
                    // Jinja2: "x is divisibleby 3", "x is sameas none"
                    args.add(postfix(primary()));
                }
                e = new Node.Test(line, e, test, args, negated);
            } else return e;
        }
    }

    private Node.Filter filterCall(Node value, int line) {
        Token n = expect(Kind.NAME, null);
        String f = n.text();
        while (peek().isOp(".") && peek(1).kind() == Kind.NAME) { i++; f += "." + next().text(); }
        if (!Filters.exists(f)) throw error(n, "no filter named '" + f + "'");
        List<Node> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Node> kwValues = new ArrayList<>();
        if (acceptOp("(")) callArgs(args, kwNames, kwValues);
        return new Node.Filter(line, value, f, args, kwNames, kwValues);
    }
}
