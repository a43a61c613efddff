package org.dnonative.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded mutations of valid safetensors files: whatever the bytes, {@link SafetensorsFile} gives a
 * file whose tensors tile its data section exactly, or a one-line {@link SafetensorsException} naming
 * the file; never another exception type. The seed and the mutation are printed on failure.
 */
class SafetensorsFuzzTest {
    private static final long SEED = 20261201L;
    private static final int CASES = 600;
    /** Values that sit on the format's edges: signs, 2^63, 2^64, floats, huge. */
    private static final String[] NUMBERS = {"-1", "0", "1", "3", "9223372036854775807", "9223372036854775808",
            "18446744073709551615", "18446744073709551616", "1e3", "1.5", "-0", "99999999999999999999999", "4294967296"};
    private static final String[] SNIPPETS = {"{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "null", "\"__metadata__\"",
            "\"dtype\"", "\"F4\"", "\"U64\"", "\"BF16\"", "NaN", " ", "\n", "\u00ff", "\u00e9", "\"shape\":[]", "\"data_offsets\":[0,0]"};

    @TempDir Path tmp;

    @Test
    void everyMutationGivesAFileOrASafetensorsException() throws IOException {
        byte[][] bases = {base(false), base(true)};
        Random random = new Random(SEED);
        int opened = 0, refused = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] base = bases[random.nextInt(bases.length)];
            StringBuilder what = new StringBuilder();
            byte[] bytes = mutate(base, random, what);
            Path p = tmp.resolve("case-" + i + ".safetensors");
            Files.write(p, bytes);
            String context = "seed " + SEED + ", case " + i + ": " + what + "; header: "
                    + (bytes.length <= 8 ? "" : new String(bytes, 8, Math.min(bytes.length - 8, 400), StandardCharsets.ISO_8859_1));
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                opened++;
                long covered = 0;
                for (TensorInfo t : f.tensors().values()) {
                    covered += t.byteLength();
                    try {
                        assertEquals(t.byteLength(), f.data(t.name()).remaining(), context);
                        if (t.dtype().isFloatingPoint()) f.readFloats(t.name());
                        if (t.dtype() == DType.I64 || t.dtype() == DType.I32) f.readLongs(t.name());
                    } catch (SafetensorsException e) {
                        checkMessage(e, p, context);
                    }
                }
                long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                assertEquals(bytes.length - 8 - headerLen, covered, "the tensors must tile the data section: " + context);
            } catch (SafetensorsException e) {
                refused++;
                checkMessage(e, p, context);
            } catch (Throwable t) {
                throw new AssertionError("unexpected " + t + " for " + context, t);
            }
        }
        // a fuzz run that only ever hits the length check tests nothing
        assertTrue(opened >= CASES / 40 && refused > CASES / 2, "opened " + opened + ", refused " + refused);
    }

    private static void checkMessage(SafetensorsException e, Path p, String context) {
        String m = e.getMessage();
        assertNotNull(m, context);
        assertTrue(m.startsWith(p.toString() + ": "), m + " -- " + context);
        assertEquals(1, m.lines().count(), "one line: " + m + " -- " + context);
        if (m.contains(": tensor ")) assertTrue(m.matches(".*: tensor '.*'.*"), "names the tensor: " + m);
    }

    /** A valid file from the writer: several dtypes, a scalar, an empty tensor, metadata (or none). */
    private static byte[] base(boolean metadata) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        if (metadata) w.metadata("format", "pt").metadata("note", "fuzz");
        w.add("w.weight", new float[]{1, 2, 3, 4, 5, 6}, new long[]{2, 3}, DType.F32);
        w.add("b", new float[]{0.5f, -1}, new long[]{2}, DType.BF16);
        w.add("scalar", new float[]{7}, new long[]{}, DType.F16);
        w.add("empty", new float[]{}, new long[]{0, 4}, DType.F32);
        w.add("ids", new long[]{1, 2, 3}, new long[]{3});
        byte[] header = w.headerBytes();
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 24 + 4 + 2 + 24).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        for (float v : new float[]{1, 2, 3, 4, 5, 6}) b.putFloat(v);
        b.putShort((short) 0x3f00).putShort((short) 0xbf80).putShort((short) 0x4700);
        b.putLong(1).putLong(2).putLong(3);
        return b.array();
    }

    private static byte[] mutate(byte[] base, Random r, StringBuilder what) {
        long headerLen = ByteBuffer.wrap(base, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(base, 8, (int) headerLen, StandardCharsets.ISO_8859_1);
        byte[] data = Arrays.copyOfRange(base, 8 + (int) headerLen, base.length);
        int kind = r.nextInt(9);
        switch (kind) {
            case 0 -> { // a random byte anywhere
                byte[] out = base.clone();
                int at = r.nextInt(out.length);
                out[at] = (byte) r.nextInt(256);
                what.append("byte ").append(at).append(" set to ").append(out[at] & 0xff);
                return out;
            }
            case 1 -> { // truncated
                int len = r.nextInt(base.length);
                what.append("truncated to ").append(len);
                return Arrays.copyOf(base, len);
            }
            case 2 -> { // bytes appended after the data
                int extra = 1 + r.nextInt(16);
                what.append(extra).append(" bytes appended");
                return Arrays.copyOf(base, base.length + extra);
            }
            case 3 -> { // a wrong header length
                long len = switch (r.nextInt(4)) {
                    case 0 -> headerLen + r.nextInt(17) - 8;
                    case 1 -> r.nextLong();
                    case 2 -> SafetensorsFile.MAX_HEADER_BYTES + r.nextInt(3) - 1;
                    default -> r.nextInt(base.length + 8);
                };
                what.append("header length ").append(Long.toUnsignedString(len));
                byte[] out = base.clone();
                ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(len);
                return out;
            }
            default -> { // an edit of the header text, the length fixed up (or, once in four, not)
                String edited;
                if (kind <= 5) {
                    // replace one number with an edge value
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("-?\\d+").matcher(header);
                    int count = 0;
                    while (m.find()) count++;
                    int pick = r.nextInt(Math.max(1, count));
                    m.reset();
                    edited = header;
                    for (int k = 0; m.find(); k++) {
                        if (k == pick) {
                            String v = NUMBERS[r.nextInt(NUMBERS.length)];
                            edited = header.substring(0, m.start()) + v + header.substring(m.end());
                            what.append("number at ").append(m.start()).append(" -> ").append(v);
                            break;
                        }
                    }
                } else if (kind == 6) {
                    int at = r.nextInt(header.length() + 1);
                    String s = SNIPPETS[r.nextInt(SNIPPETS.length)];
                    edited = header.substring(0, at) + s + header.substring(at);
                    what.append("inserted ").append(s.replace("\n", "\\n")).append(" at ").append(at);
                } else if (kind == 7) {
                    int at = r.nextInt(header.length()), len = 1 + r.nextInt(Math.min(20, header.length() - at));
                    edited = header.substring(0, at) + header.substring(at + len);
                    what.append("deleted ").append(len).append(" at ").append(at);
                } else {
                    int at = r.nextInt(header.length()), len = 1 + r.nextInt(Math.min(60, header.length() - at));
                    int to = r.nextInt(header.length() + 1);
                    edited = header.substring(0, to) + header.substring(at, at + len) + header.substring(to);
                    what.append("copied ").append(len).append(" from ").append(at).append(" to ").append(to);
                }
                byte[] h = edited.getBytes(StandardCharsets.ISO_8859_1);
                boolean fix = r.nextInt(4) != 0;
                if (!fix) what.append(", length not fixed");
                ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
                b.putLong(fix ? h.length : headerLen).put(h).put(data);
                return b.array();
            }
        }
    }
}
