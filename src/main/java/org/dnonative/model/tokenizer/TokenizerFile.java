package org.dnonative.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a tokenizer.json. The model's vocab and merges (hundreds of thousands of entries)
 * are read straight into a {@link Vocab} and merge ids; only the small sections become JSON trees.
 */
final class TokenizerFile {
    final Json root = Json.object();      // every section but model.vocab / model.merges
    final Json model = Json.object();     // the model's other fields
    Vocab vocab;
    /**
     * The merges in rank order, resolved to ids while reading: (left, right, left+right) for merge k at
     * [3k, 3k+3), Vocab.NONE where a token is not in the vocab. Resolving from the file's bytes spares
     * making the three Strings of each merge (see {@link Vocab}).
     */
    int[] merges = new int[0];
    int mergeCount;
    /** The first merge whose left or right token is not in the vocab, as "a b"; null when there is none. */
    String badMerge;
    /** (char, id) pairs of the vocab's one-unit tokens and (byte, id) pairs of its "<0xNN>" tokens, in file order: BpeModel's tables. */
    final IntList charIds = new IntList(), byteIds = new IntList();
    /** Merges read before the vocab (JSON members come in any order), as strings: resolved once the vocab has been read. */
    private List<String[]> pending;

    static TokenizerFile parse(byte[] json, String source) {
        TokenizerFile f = new TokenizerFile();
        JsonScanner p = new JsonScanner(json, source);
        if (p.peek() != '{') throw p.error("not a JSON object");
        if (!p.open('{', '}', "'{'")) {
            do {
                String name = p.string();
                p.expect(':', "':'");
                if (name.equals("model") && p.peek() == '{') f.readModel(p, source);
                else f.root.set(name, p.value());
            } while (p.more('}'));
        }
        p.end();
        String type = f.model.path("type").asText("");
        if (!type.isEmpty() && !type.equals("BPE") && !type.equals("WordLevel"))
            throw new TokenizerException(source + ": model type '" + type + "' is not supported (BPE, WordLevel)");
        if (f.vocab == null) throw new TokenizerException(source + ": model has no vocab object");
        return f;
    }

    private void readModel(JsonScanner p, String source) {
        if (p.open('{', '}', "'{'")) return;
        do {
            String name = p.string();
            p.expect(':', "':'");
            if (name.equals("vocab") && p.peek() == '{') readVocab(p);
            else if (name.equals("merges") && p.peek() == '[') readMerges(p, source);
            else model.set(name, p.value());
        } while (p.more('}'));
    }

    // The loops below run tens of thousands of times on the first load in a fresh JVM, where HotSpot
    // compiles a method after a few hundred calls but a loop in place only after tens of thousands of
    // iterations. So the entries are read by a method that reads up to n of them: called for one entry
    // at a time WARM_UP times, by when the JIT has compiled it (the interpreter meanwhile runs one call
    // per entry), then for CHUNK entries a call, which run in compiled code, loop included.
    static final int WARM_UP = 300, CHUNK = 4096;

    private void readVocab(JsonScanner p) {
        vocab = new Vocab(p.bytes(), 1 << 15);
        if (!p.open('{', '}', "'{'")) for (int k = 0; vocabEntries(p, k++ < WARM_UP ? 1 : CHUNK); ) { }
        if (pending != null) {
            List<String[]> earlier = pending;
            pending = null;
            for (String[] m : earlier) addMerge(m[0], m[1]);
        }
    }

    /** Up to n "token": id members; true if more follow. */
    private boolean vocabEntries(JsonScanner p, int n) {
        for (int k = 0; k < n; k++) if (!vocabEntry(p)) return false;
        return true;
    }

    /** One "token": id member; true if another follows. */
    private boolean vocabEntry(JsonScanner p) {
        int end = p.rawKey(), start = p.rawStart, hash = p.hashWhole, units = p.units;
        String escaped = end < 0 ? p.string() : null;                   // the few tokens written with escapes
        p.expect(':', "':'");
        int c = p.peek();
        if (c < '0' || c > '9')                                         // HF's ids are u32
            throw p.error("vocab entry '" + (escaped != null ? escaped : p.text(start, end)) + "' is not an id");
        int id = p.integer();
        byte[] b = p.bytes();
        if (escaped == null) {
            vocab.put(hash, start, end, id);
            if (units == 1) charIds.add(hash).add(id);                  // the hash of one UTF-16 unit is the unit
            else if (end - start == 6 && b[start] == '<' && b[start + 1] == '0' && b[start + 2] == 'x' && b[start + 5] == '>')
                byteToken((char) b[start + 3], (char) b[start + 4], id);
        } else {
            vocab.put(escaped, id);
            if (escaped.length() == 1) charIds.add(escaped.charAt(0)).add(id);
            else if (escaped.length() == 6 && escaped.startsWith("<0x") && escaped.endsWith(">")) byteToken(escaped.charAt(3), escaped.charAt(4), id);
        }
        return p.more('}');
    }

    /** A byte-fallback token "<0xNN>": HF writes the hex digits in uppercase, and only those are its byte tokens. */
    private void byteToken(char h, char l, int id) {
        if (isUpperHex(h) && isUpperHex(l)) byteIds.add(Character.digit(h, 16) * 16 + Character.digit(l, 16)).add(id);
    }

    private static boolean isUpperHex(char c) { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F'; }

    private void readMerges(JsonScanner p, String source) {
        if (!p.open('[', ']', "'['")) for (int k = 0; mergeEntries(p, source, k++ < WARM_UP ? 1 : CHUNK); ) { }
    }

    /** Up to n merges; true if more follow. */
    private boolean mergeEntries(JsonScanner p, String source, int n) {
        for (int k = 0; k < n; k++) if (!mergeEntry(p, source)) return false;
        return true;
    }

    /** One merge, "a b" or [a, b]; true if another follows. */
    private boolean mergeEntry(JsonScanner p, String source) {
        int c = p.peek();
        if (c == '"') {                                  // the legacy "a b" form: HF splits on the one space
            int end = p.rawString();
            if (end >= 0 && p.spaces == 1 && vocab != null)
                addMerge(p.bytes(), p.rawStart, p.firstSpace, p.firstSpace + 1, end, p.hashBefore, p.hashAfter, p.hashJoined);
            else {
                String s = end >= 0 ? p.text(p.rawStart, end) : p.string();
                int sp = s.indexOf(' ');
                if (sp < 0 || s.indexOf(' ', sp + 1) >= 0) throw p.error("merge '" + s + "' is not two tokens");
                addMerge(s.substring(0, sp), s.substring(sp + 1));
            }
        } else if (c == '[') {
            p.expect('[', "'['");
            if (p.peek() != '"') throw new TokenizerException(source + ": a merge is not a pair of strings");
            int aEnd = p.rawString(), aStart = p.rawStart, aHash = p.hashWhole;
            String a = aEnd < 0 ? p.string() : null;
            if (!p.more(']') || p.peek() != '"') throw new TokenizerException(source + ": a merge is not a pair of strings");
            int bEnd = p.rawString(), bStart = p.rawStart, bHash = p.hashWhole;
            String b = bEnd < 0 ? p.string() : null;
            if (p.more(']')) throw new TokenizerException(source + ": a merge is not a pair of strings");
            if (a == null && b == null && vocab != null)
                addMerge(p.bytes(), aStart, aEnd, bStart, bEnd, aHash, bHash, aHash * p.pow31 + bHash);
            else addMerge(a != null ? a : p.text(aStart, aEnd), b != null ? b : p.text(bStart, bEnd));
        } else throw new TokenizerException(source + ": a merge is neither \"a b\" nor [a, b]");
        return p.more(']');
    }

    /** A merge whose tokens are the UTF-8 text b[aFrom, aTo) and b[bFrom, bTo) of the file, with the String hashes of left, right and left+right. */
    private void addMerge(byte[] b, int aFrom, int aTo, int bFrom, int bTo, int aHash, int bHash, int joinedHash) {
        int a = vocab.get(aHash, b, aFrom, aTo, aTo, aTo), r = vocab.get(bHash, b, bFrom, bTo, bTo, bTo);
        if ((a < 0 || r < 0) && badMerge == null) badMerge = new String(b, aFrom, aTo - aFrom, StandardCharsets.UTF_8) + " " + new String(b, bFrom, bTo - bFrom, StandardCharsets.UTF_8);
        push(a, r, vocab.get(joinedHash, b, aFrom, aTo, bFrom, bTo));
    }

    private void addMerge(String left, String right) {
        if (vocab == null) {
            if (pending == null) pending = new ArrayList<>();
            pending.add(new String[]{left, right});
            return;
        }
        int a = vocab.get(left), r = vocab.get(right);
        if ((a < 0 || r < 0) && badMerge == null) badMerge = left + " " + right;
        push(a, r, vocab.get(left.concat(right)));
    }

    private void push(int a, int b, int merged) {
        if (3 * mergeCount + 3 > merges.length) merges = java.util.Arrays.copyOf(merges, Math.max(3 * 1024, merges.length * 2));
        merges[3 * mergeCount] = a;
        merges[3 * mergeCount + 1] = b;
        merges[3 * mergeCount + 2] = merged;
        mergeCount++;
    }

    Json section(String name) { return root.get(name); }
}
