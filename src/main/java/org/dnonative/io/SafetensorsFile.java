package org.dnonative.io;

import org.dnonative.kernel.Half;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading: an 8-byte little-endian header length, a JSON header
 * mapping tensor names to dtype, shape and data_offsets (plus an optional string-to-string
 * {@code __metadata__}), then the raw little-endian data. Every rule of the format is checked on
 * open, so a tensor that opens is safe to read; each tensor is memory-mapped on demand.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation refuses headers above 100 MB; so do we. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

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
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > fileSize - 8)
            throw new SafetensorsException(path + ": header length " + headerLen + " is invalid for a file of " + fileSize + " bytes");
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(ch, headerBuf, 8);
        String headerText = new String(headerBuf.array(), StandardCharsets.UTF_8);
        JsonNode header;
        try {
            header = JSON.readTree(headerText);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": header is not valid JSON: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) throw new SafetensorsException(path + ": header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataSize = fileSize - dataStart;

        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new SafetensorsException(path + ": __metadata__ is not an object");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> me = m.next();
                    if (!me.getValue().isTextual())
                        throw new SafetensorsException(path + ": __metadata__ value of '" + me.getKey() + "' is not a string");
                    metadata.put(me.getKey(), me.getValue().asText());
                }
                continue;
            }
            tensors.put(name, parseEntry(path, name, v, dataSize));
        }
        checkNoOverlap(path, tensors.values());
        return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode v, long dataSize) throws SafetensorsException {
        String where = path + ": tensor '" + name + "'";
        if (!v.isObject()) throw new SafetensorsException(where + ": entry is not an object");
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw new SafetensorsException(where + ": missing dtype");
        DType dtype = DType.fromSafetensorsName(dt.asText());
        if (dtype == null) throw new SafetensorsException(where + ": unsupported dtype " + dt.asText());
        if (sh == null || !sh.isArray()) throw new SafetensorsException(where + ": missing shape");
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0)
                throw new SafetensorsException(where + ": shape " + sh + " has an invalid dimension");
            shape[i] = d.asLong();
            numel = Math.multiplyExact(numel, shape[i]);
        }
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber())
            throw new SafetensorsException(where + ": data_offsets must be two integers");
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || end < begin) throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end + "] are invalid");
        if (end > dataSize)
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end + "] run past the data section (" + dataSize + " bytes)");
        long expected = Math.multiplyExact(numel, (long) dtype.byteSize());
        if (end - begin != expected)
            throw new SafetensorsException(where + ": " + dtype.safetensorsName() + java.util.Arrays.toString(shape)
                    + " needs " + expected + " bytes but data_offsets span " + (end - begin));
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static void checkNoOverlap(Path path, Iterable<TensorInfo> infos) throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>();
        infos.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (prev != null && t.begin() < prev.end() && t.byteLength() > 0)
                throw new SafetensorsException(path + ": tensors '" + prev.name() + "' and '" + t.name() + "' overlap");
            if (t.byteLength() > 0) prev = t;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }

    public Path path() { return path; }

    /** Tensor entries in header order. */
    public Map<String, TensorInfo> tensors() { return tensors; }

    public Map<String, String> metadata() { return metadata; }

    public boolean contains(String name) { return tensors.containsKey(name); }

    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new SafetensorsException(path + ": no tensor named '" + name + "'");
        return t;
    }

    /** A read-only little-endian view of the tensor's bytes, memory-mapped from the file. */
    public ByteBuffer data(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.byteLength() > Integer.MAX_VALUE)
            throw new SafetensorsException(path + ": tensor '" + name + "' is larger than 2 GiB and cannot be mapped as one buffer");
        if (t.byteLength() == 0) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The tensor's values as floats, converted from F32, F16, BF16 or F64. */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = info(name);
        ByteBuffer b = data(name);
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> b.asFloatBuffer().get(out);
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Half.bf16ToFloat(b.getShort(2 * i)); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Half.f16ToFloat(b.getShort(2 * i)); }
            case F64 -> { for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(8 * i); }
            default -> throw new SafetensorsException(path + ": tensor '" + name + "' has dtype " + t.dtype() + ", expected a floating-point dtype");
        }
        return out;
    }

    /** The tensor's values as longs, from I64 or I32. */
    public long[] readLongs(String name) throws IOException {
        TensorInfo t = info(name);
        ByteBuffer b = data(name);
        int n = Math.toIntExact(t.numel());
        long[] out = new long[n];
        switch (t.dtype()) {
            case I64 -> b.asLongBuffer().get(out);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i); }
            default -> throw new SafetensorsException(path + ": tensor '" + name + "' has dtype " + t.dtype() + ", expected I64 or I32");
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
