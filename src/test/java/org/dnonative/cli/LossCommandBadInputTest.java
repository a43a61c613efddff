package org.dnonative.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.dnonative.io.DType;
import org.dnonative.io.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loss} on files the reference safetensors library refuses, on shapes whose sizes overflow,
 * and on finite inputs whose loss is not finite: exit code 2, one line naming the file and tensor,
 * and nothing written (no OUT, no temporary file).
 */
class LossCommandBadInputTest {
    @TempDir Path dir;

    private static final String LABELS = "\"labels\":{\"dtype\":\"I64\",\"shape\":[2,1],\"data_offsets\":[16,32]}";
    private static final String REF = "\"ref_logps\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[32,40]}";

    /** A header over 40 bytes of data: logits F32 [2,1,2] (16 bytes), labels, ref_logps. */
    private Path file(String name, byte[] header, int dataBytes) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private Path file(String name, String header, int dataBytes) throws Exception {
        return file(name, header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private static String logits(String shape, String offsets) {
        return "\"logits\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    private void refused(Path in, String... fragments) throws Exception {
        Path out = dir.resolve("out.safetensors");
        LossCommandTest.Run r = LossCommandTest.run("loss", "--in", in.toString(), "--out", out.toString());
        assertEquals(2, r.code(), in.getFileName() + ": " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("error: " + in), err);
        for (String f : fragments) assertTrue(err.contains(f), "'" + f + "' in: " + err);
        assertFalse(err.contains("Exception"), err);
        assertFalse(Files.exists(out), "nothing written: " + err);
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void overflowingShapesAreRefusedNamingTheTensor() throws Exception {
        refused(file("overflow.safetensors", "{" + logits("[9223372036854775807,6,50]", "[0,16]") + "," + LABELS + "," + REF + "}", 40),
                "'logits'", "overflows");
        refused(file("overflow2.safetensors", "{" + logits("[4611686018427387904,4]", "[0,16]") + "," + LABELS + "," + REF + "}", 40),
                "'logits'", "overflows");
    }

    @Test
    void zeroElementTensorsWithHugeDimensionsAreRefusedNotCrashed() throws Exception {
        // valid files (zero bytes of hidden and weight data) whose dimensions would size huge buffers
        Path in = dir.resolve("zero.safetensors");
        new SafetensorsWriter().add("hidden", new float[0], new long[] {2, 1, 0}, DType.F32)
                .add("weight", new float[0], new long[] {1L << 40, 0}, DType.F32)
                .add("labels", new long[] {0, 0}, new long[] {2, 1})
                .add("ref_logps", new float[] {-1, -2}, new long[] {2}, DType.F32)
                .write(in);
        refused(in);
        Path logits = dir.resolve("zero-logits.safetensors");
        new SafetensorsWriter().add("logits", new float[0], new long[] {2, 1L << 40, 0}, DType.F32)
                .add("labels", new long[0], new long[] {2, 0})
                .add("ref_logps", new float[] {-1, -2}, new long[] {2}, DType.F32)
                .write(logits);
        refused(logits);
    }

    @Test
    void filesTheReferenceLibraryRefusesAreRefused() throws Exception {
        String ok = "{" + logits("[2,1,2]", "[0,16]") + "," + LABELS + "," + REF + "}";
        refused(file("wrap.safetensors", "{" + logits("[2,1,2]", "[18446744073709551615,15]") + "," + LABELS + "," + REF + "}", 40),
                "'logits'", "data_offsets");
        refused(file("trailing.safetensors", ok + "{}", 40), "not valid JSON");
        refused(file("dup.safetensors", "{" + logits("[2,1,2]", "[0,16]") + "," + logits("[2,1,2]", "[0,16]") + "," + LABELS + "," + REF + "}", 40),
                "Duplicate field 'logits'");
        byte[] badName = ("{\"x\u00ff\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}," + ok.substring(1)).getBytes(StandardCharsets.ISO_8859_1);
        refused(file("utf8.safetensors", badName, 40), "not valid UTF-8");
        refused(file("meta.safetensors", "{\"__metadata__\":{\"k\":\"\\udc00\"}," + ok.substring(1), 40), "surrogate");
        refused(file("after.safetensors", ok, 41), "cover 40 bytes", "holds 41");
        refused(file("json.safetensors", "{\n" + logits("[2,1,2]", "[0,16]") + ",\n" + LABELS + "\n" + REF + "}", 40),
                "not valid JSON", "header line 4");
    }

    @Test
    void aNonFiniteResultOfFiniteLogitsIsAnErrorNotAnOutput() throws Exception {
        Path in = dir.resolve("huge.safetensors");
        new SafetensorsWriter().add("logits", new float[] {3e38f, -3e38f, -3e38f, 3e38f}, new long[] {2, 1, 2}, DType.F32)
                .add("labels", new long[] {1, 0}, new long[] {2, 1})
                .add("ref_logps", new float[] {-1, -2}, new long[] {2}, DType.F32)
                .write(in);
        refused(in, "not finite", "loss", "was not written");
    }
}
