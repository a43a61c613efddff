package org.dnonative.io;

import org.dnonative.kernel.Half;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading: an 8-byte little-endian header length N, N bytes of UTF-8
 * JSON mapping tensor names to dtype, shape and data_offsets (plus an optional string-to-string
 * {@code __metadata__}), then the raw little-endian data. Every rule of the reference library
 * (huggingface/safetensors, {@code SafeTensors::read_metadata} and {@code Metadata::validate}) is
 * checked on open, so a tensor that opens is safe to read; each tensor is memory-mapped on demand.
 *
 * <p>The rules: N is at most 100,000,000 and the header fits in the file; the header is valid UTF-8
 * and one JSON object (whitespace around it, nothing else); each entry has a known dtype, a shape of
 * unsigned 64-bit dimensions and two unsigned 64-bit data_offsets (other fields are ignored); the
 * element count times the dtype's bits does not overflow 64 bits and fills whole bytes; sorted by
 * offsets, the tensors tile the data section from 0 with no gap and no overlap, each spanning exactly
 * its size; and the data section ends where the file ends.
 *
 * <p>Stricter than the reference, on purpose: a key written twice anywhere in the header is refused
 * (the reference refuses it inside an entry but takes the last of two top-level entries, so two
 * readers could disagree on what a name holds); a dimension above 2^63-1 is refused (the reference
 * accepts one in a zero-element tensor); an entry written as a JSON array instead of an object is
 * refused (serde accepts it as a struct).
 *
 * <p>Every error is a {@link SafetensorsException} with one line naming the file and, where it is
 * about one, the tensor.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's MAX_HEADER_SIZE. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final BigInteger U64_LIMIT = BigInteger.ONE.shiftLeft(64);
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(path + ": no such file");
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot open: " + oneLine(String.valueOf(e.getMessage())), e);
        }
        try {
            return parse(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) throw new SafetensorsException(path + ": " + fileSize + " bytes, too short for the 8-byte header length");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0, path);
        long headerLen = lenBuf.flip().getLong();  // unsigned: negative means above 2^63
        if (headerLen < 0 || headerLen > MAX_HEADER_BYTES)
            throw new SafetensorsException(path + ": header length " + Long.toUnsignedString(headerLen)
                    + " is above the format's limit of " + MAX_HEADER_BYTES + " bytes");
        if (headerLen > fileSize - 8)
            throw new SafetensorsException(path + ": header length " + headerLen + " runs past the end of a file of " + fileSize + " bytes");
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(ch, headerBuf, 8, path);
        JsonNode header = parseHeader(path, headerBuf.array());
        if (!header.isObject()) throw new SafetensorsException(path + ": header is not a JSON object");
        long dataStart = 8 + headerLen;

        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (v.isNull()) continue;
                if (!v.isObject()) throw new SafetensorsException(path + ": __metadata__ is not an object of strings");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> me = m.next();
                    if (!me.getValue().isTextual())
                        throw new SafetensorsException(path + ": __metadata__ value of " + quote(me.getKey()) + " is not a string");
                    metadata.put(me.getKey(), me.getValue().asText());
                }
                continue;
            }
            tensors.put(name, parseEntry(path, name, v));
        }
        long dataEnd = validateLayout(path, tensors.values());
        if (dataStart + dataEnd != fileSize)
            throw new SafetensorsException(path + ": the tensors cover " + dataEnd + " bytes of data but the file holds "
                    + (fileSize - dataStart) + " after the header (the data section must end where the file ends)");
        return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /** Strict UTF-8, then strict JSON: no duplicate keys, nothing but whitespace after the object, no lone surrogates. */
    private static JsonNode parseHeader(Path path, byte[] bytes) throws SafetensorsException {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer text = CharBuffer.allocate(bytes.length);
        CoderResult r = utf8.decode(in, text, true);
        if (r.isError()) throw new SafetensorsException(path + ": header is not valid UTF-8 (at byte " + (8 + in.position()) + " of the file)");
        utf8.flush(text);
        String s = text.flip().toString();
        // Jackson would skip a byte-order mark; JSON (and the reference) does not allow one
        if (s.startsWith("\uFEFF")) throw new SafetensorsException(path + ": header is not valid JSON: it starts with a byte-order mark");
        JsonNode header;
        try (JsonParser p = JSON.createParser(s)) {
            header = JSON.readTree(p);
            if (header == null || header.isMissingNode()) throw new SafetensorsException(path + ": header is not valid JSON: it is empty");
            if (p.nextToken() != null)
                throw new SafetensorsException(path + ": header is not valid JSON: more after the object" + at(p.currentTokenLocation()));
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(path + ": header is not valid JSON: " + oneLine(e.getOriginalMessage()) + at(e.getLocation()), e);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": header is not valid JSON: " + oneLine(String.valueOf(e.getMessage())), e);
        }
        String bad = firstLoneSurrogate(header, null);
        if (bad != null) throw new SafetensorsException(path + ": header is not valid JSON: the string " + quote(bad) + " holds a lone UTF-16 surrogate escape");
        return header;
    }

    /** A field name or string value anywhere in the tree with an unpaired surrogate (from a \\u escape), or null. */
    private static String firstLoneSurrogate(JsonNode node, String key) {
        if (key != null && hasLoneSurrogate(key)) return key;
        if (node.isTextual()) return hasLoneSurrogate(node.asText()) ? node.asText() : null;
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String bad = firstLoneSurrogate(e.getValue(), e.getKey());
                if (bad != null) return bad;
            }
        } else if (node.isArray()) {
            for (JsonNode c : node) {
                String bad = firstLoneSurrogate(c, null);
                if (bad != null) return bad;
            }
        }
        return null;
    }

    private static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
                else return true;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** One entry's fields, checked for type and range (the reference's deserialisation into TensorInfo). */
    private static TensorInfo parseEntry(Path path, String name, JsonNode v) throws SafetensorsException {
        String where = path + ": tensor " + quote(name);
        if (!v.isObject()) throw new SafetensorsException(where + ": entry is not an object");
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null) throw new SafetensorsException(where + ": missing field 'dtype'");
        if (!dt.isTextual()) throw new SafetensorsException(where + ": 'dtype' is not a string");
        DType dtype = DType.fromSafetensorsName(dt.asText());
        if (dtype == null) throw new SafetensorsException(where + ": unknown dtype " + quote(dt.asText()));
        if (sh == null) throw new SafetensorsException(where + ": missing field 'shape'");
        if (!sh.isArray()) throw new SafetensorsException(where + ": 'shape' is not a list");
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            BigInteger d = unsigned64(sh.get(i));
            if (d == null) throw new SafetensorsException(where + ": shape[" + i + "] is not an unsigned 64-bit integer: " + clip(sh.get(i).toString()));
            if (d.bitLength() > 63) throw new SafetensorsException(where + ": shape[" + i + "] = " + d + " is above 2^63-1");
            shape[i] = d.longValueExact();
        }
        if (off == null) throw new SafetensorsException(where + ": missing field 'data_offsets'");
        if (!off.isArray() || off.size() != 2) throw new SafetensorsException(where + ": 'data_offsets' must be a list of two integers");
        BigInteger begin = unsigned64(off.get(0)), end = unsigned64(off.get(1));
        if (begin == null || end == null)
            throw new SafetensorsException(where + ": data_offsets " + clip(off.toString()) + " are not unsigned 64-bit integers");
        // no file holds 2^63 bytes: such an offset can never be valid, so it is refused here rather than carried as a wrapped long
        if (begin.bitLength() > 63 || end.bitLength() > 63)
            throw new SafetensorsException(where + ": data_offsets " + clip(off.toString()) + " lie past the end of any file");
        return new TensorInfo(name, dtype, shape, begin.longValueExact(), end.longValueExact());
    }

    /** The value as an integer in [0, 2^64), or null when it is not one (a float, a string, negative, too large). */
    private static BigInteger unsigned64(JsonNode n) {
        if (n == null || !n.isIntegralNumber()) return null;
        BigInteger b = n.bigIntegerValue();
        return b.signum() < 0 || b.compareTo(U64_LIMIT) >= 0 ? null : b;
    }

    /**
     * The reference's Metadata::validate: sorted by (begin, end), each tensor starts where the one
     * before ended and spans exactly its size; returns the end of the data section.
     */
    private static long validateLayout(Path path, Iterable<TensorInfo> infos) throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>();
        infos.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long start = 0;
        for (TensorInfo t : sorted) {
            String where = path + ": tensor " + quote(t.name());
            if (t.begin() != start || t.end() < t.begin())
                throw new SafetensorsException(where + ": data_offsets [" + t.begin() + ", " + t.end() + "] are invalid: "
                        + (t.end() < t.begin() ? "the end is before the begin"
                        : t.begin() < start ? "it overlaps the tensor before it, which ends at " + start
                        : "there is a gap after the tensor before it, which ends at " + start));
            start = t.end();
            BigInteger numel = BigInteger.ONE;
            for (long d : t.shape()) {
                numel = numel.multiply(BigInteger.valueOf(d));
                // the reference folds with checked 64-bit multiplication: it fails at the first overflow, even before a 0
                if (numel.compareTo(U64_LIMIT) >= 0)
                    throw new SafetensorsException(where + ": the element count of shape " + Arrays.toString(t.shape()) + " overflows 64 bits");
            }
            BigInteger bits = numel.multiply(BigInteger.valueOf(t.dtype().bitSize()));
            if (bits.compareTo(U64_LIMIT) >= 0)
                throw new SafetensorsException(where + ": the size of " + t.dtype().safetensorsName() + Arrays.toString(t.shape()) + " overflows 64 bits");
            if (bits.mod(BigInteger.valueOf(8)).signum() != 0)
                throw new SafetensorsException(where + ": " + t.dtype().safetensorsName() + Arrays.toString(t.shape()) + " does not fill whole bytes");
            BigInteger bytes = bits.shiftRight(3);
            if (!bytes.equals(BigInteger.valueOf(t.byteLength())))
                throw new SafetensorsException(where + ": " + t.dtype().safetensorsName() + Arrays.toString(t.shape())
                        + " needs " + bytes + " bytes but data_offsets [" + t.begin() + ", " + t.end() + "] span " + t.byteLength());
        }
        return start;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path path) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new SafetensorsException(path + ": unexpected end of file at byte " + pos);
            pos += n;
        }
    }

    private static String at(JsonLocation loc) {
        return loc == null || loc.getLineNr() < 1 ? "" : " (header line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    /** A name as it can be printed on one line: quoted, control and non-printing characters escaped, long names cut. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("'");
        int[] cps = s.codePoints().limit(200).toArray();  // a lone surrogate comes out as itself
        for (int cp : cps) {
            int type = Character.getType(cp);
            if (type == Character.CONTROL || type == Character.SURROGATE || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR)
                b.append(String.format("\\u%04x", cp));
            else if (cp == '\'' || cp == '\\') b.append('\\').appendCodePoint(cp);
            else b.appendCodePoint(cp);
        }
        if (s.codePointCount(0, s.length()) > cps.length) b.append("...");
        return b.append('\'').toString();
    }

    private static String clip(String s) {
        String one = oneLine(s);
        return one.length() > 100 ? one.substring(0, 100) + "..." : one;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n\\u2028\\u2029]+", " ");
    }

    public Path path() { return path; }

    /** Tensor entries in header order. */
    public Map<String, TensorInfo> tensors() { return tensors; }

    public Map<String, String> metadata() { return metadata; }

    public boolean contains(String name) { return tensors.containsKey(name); }

    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new SafetensorsException(path + ": no tensor named " + quote(name));
        return t;
    }

    /** A read-only little-endian view of the tensor's bytes, memory-mapped from the file. */
    public ByteBuffer data(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.byteLength() > Integer.MAX_VALUE)
            throw new SafetensorsException(path + ": tensor " + quote(name) + " is larger than 2 GiB and cannot be mapped as one buffer");
        if (t.byteLength() == 0) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The tensor's bytes mapped copy-on-write (FileChannel.MapMode.PRIVATE): writable, and writes
     * stay in this process, never reach the file. Backs float32 parameters without a copy; the
     * file's pages are read when first touched. Stays mapped while the buffer is reachable. Null when
     * the file cannot be opened for writing (read-only file or file system), which such a mapping needs.
     */
    public ByteBuffer dataCopyOnWrite(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.byteLength() > Integer.MAX_VALUE)
            throw new SafetensorsException(path + ": tensor " + quote(name) + " is larger than 2 GiB and cannot be mapped as one buffer");
        if (t.byteLength() == 0) return ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);
        // Java maps PRIVATE only through a channel open for writing too; nothing is ever written through it
        try (FileChannel rw = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return rw.map(FileChannel.MapMode.PRIVATE, dataStart + t.begin(), t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
        } catch (java.nio.file.FileSystemException | UnsupportedOperationException e) {
            return null;   // a read-only file or file system: the caller copies instead
        }
    }

    /** The tensor's values as floats, converted from F32, F16, BF16 or F64. */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().isFloatingPoint())
            throw new SafetensorsException(path + ": tensor " + quote(name) + " has dtype " + t.dtype() + ", expected a floating-point dtype");
        ByteBuffer b = data(name);
        int n = (int) (t.byteLength() / t.dtype().byteSize());  // < 2^31: data() refuses larger tensors
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> b.asFloatBuffer().get(out);
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Half.bf16ToFloat(b.getShort(2 * i)); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Half.f16ToFloat(b.getShort(2 * i)); }
            default -> { for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(8 * i); }
        }
        return out;
    }

    /** The tensor's values as longs, from I64 or I32. */
    public long[] readLongs(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype() != DType.I64 && t.dtype() != DType.I32)
            throw new SafetensorsException(path + ": tensor " + quote(name) + " has dtype " + t.dtype() + ", expected I64 or I32");
        ByteBuffer b = data(name);
        int n = (int) (t.byteLength() / t.dtype().byteSize());
        long[] out = new long[n];
        if (t.dtype() == DType.I64) b.asLongBuffer().get(out);
        else for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i);
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
