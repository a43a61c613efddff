package org.dnonative.io;

import org.dnonative.kernel.Half;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a safetensors file in memory order of {@link #add} calls and writes it atomically. The
 * header is padded with spaces to a multiple of 8 bytes, as the reference implementation does, so
 * that every tensor's data stays 8-byte aligned in a memory map.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Entry(String name, DType dtype, long[] shape, ByteBuffer data) {}

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds raw little-endian bytes; their length must match dtype and shape. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, ByteBuffer data) {
        if (name.equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved");
        for (Entry e : entries) if (e.name.equals(name)) throw new IllegalArgumentException("tensor '" + name + "' added twice");
        long numel = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            numel = Math.multiplyExact(numel, d);
        }
        if (dtype.bitSize() % 8 != 0) throw new IllegalArgumentException("tensor '" + name + "': cannot write sub-byte dtype " + dtype);
        long bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        ByteBuffer dup = data.duplicate();
        if (dup.remaining() != bytes)
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + Arrays.toString(shape) + " needs "
                    + bytes + " bytes, got " + dup.remaining());
        entries.add(new Entry(name, dtype, shape.clone(), dup));
        return this;
    }

    /** Adds float values stored as {@code storeAs} (F32, F16, BF16 or F64). */
    public SafetensorsWriter add(String name, float[] values, long[] shape, DType storeAs) {
        ByteBuffer b = ByteBuffer.allocate(values.length * storeAs.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (storeAs) {
            case F32 -> b.asFloatBuffer().put(values);
            case BF16 -> { for (float v : values) b.putShort(Half.floatToBf16(v)); }
            case F16 -> { for (float v : values) b.putShort(Half.floatToF16(v)); }
            case F64 -> { for (float v : values) b.putDouble(v); }
            default -> throw new IllegalArgumentException("tensor '" + name + "': cannot store floats as " + storeAs);
        }
        b.rewind();
        return add(name, storeAs, shape, b);
    }

    /** Adds int64 values. */
    public SafetensorsWriter add(String name, long[] values, long[] shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return add(name, DType.I64, shape, b);
    }

    byte[] headerBytes() {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name);
            t.put("dtype", e.dtype.safetensorsName());
            ArrayNode s = t.putArray("shape");
            for (long d : e.shape) s.add(d);
            long len = e.data.remaining();
            t.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    public void write(Path target) throws IOException {
        byte[] header = headerBytes();
        AtomicFiles.write(target, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            while (len.hasRemaining()) ch.write(len);
            ByteBuffer h = ByteBuffer.wrap(header);
            while (h.hasRemaining()) ch.write(h);
            for (Entry e : entries) {
                ByteBuffer d = e.data.duplicate();
                while (d.hasRemaining()) ch.write(d);
            }
        });
    }
}
