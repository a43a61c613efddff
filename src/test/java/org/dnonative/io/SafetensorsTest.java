package org.dnonative.io;

import org.dnonative.kernel.Half;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    static final Path FIXTURE = Path.of(System.getProperty("dno.fixtures", "test/fixtures"), "hf-tiny");

    @TempDir Path tmp;

    @Test
    void readsTheFixture() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(FIXTURE.resolve("llama-tiny/model.safetensors"))) {
            TensorInfo emb = f.info("model.embed_tokens.weight");
            assertEquals(DType.F32, emb.dtype());
            assertArrayEquals(new long[]{512, 64}, emb.shape());
            assertEquals(512 * 64, f.readFloats("model.embed_tokens.weight").length);
            assertFalse(f.contains("lm_head.weight"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(FIXTURE.resolve("reference.safetensors"))) {
            long[] ids = f.readLongs("llama-tiny.case0.input_ids");
            assertEquals(1, ids[0]);
        }
    }

    @Test
    void roundTripsEveryFloatDtypeAndMetadata() throws IOException {
        float[] v = {0f, 1f, -2.5f, 3.140625f, 1e-3f, 65504f};
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        w.add("a", v, new long[]{2, 3}, DType.F32);
        w.add("b", v, new long[]{6}, DType.BF16);
        w.add("c", v, new long[]{3, 2}, DType.F16);
        w.add("ids", new long[]{7, -1}, new long[]{2});
        Path p = tmp.resolve("x.safetensors");
        w.write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals("pt", f.metadata().get("format"));
            assertArrayEquals(v, f.readFloats("a"));
            float[] b = f.readFloats("b"), c = f.readFloats("c");
            for (int i = 0; i < v.length; i++) {
                assertEquals(v[i], b[i], Math.abs(v[i]) / 128 + 1e-6);
                assertEquals(v[i], c[i], Math.abs(v[i]) / 1024 + 1e-6);
            }
            assertArrayEquals(new long[]{7, -1}, f.readLongs("ids"));
            long headerLen = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLen % 8);
        }
        try (var s = Files.list(tmp)) { assertEquals(1, s.count(), "no temporary file left behind"); }
    }

    @Test
    void halfConversionsAreExactOnRepresentableValues() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.f16ToFloat((short) bits);
            if (Float.isNaN(f)) continue;
            assertEquals((short) bits, Half.floatToF16(f), "f16 bits " + Integer.toHexString(bits));
            float g = Half.bf16ToFloat((short) bits);
            if (!Float.isNaN(g)) assertEquals((short) bits, Half.floatToBf16(g));
        }
    }

    private Path raw(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void rejectsBrokenFilesNamingFileAndTensor() throws IOException {
        assertError(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8), "'w'", "needs 8 bytes");
        assertError(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "'w'", "run past");
        assertError(raw("{\"w\":{\"dtype\":\"X9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "'w'", "unsupported dtype");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlap");
        assertError(raw("{not json", 0), "not valid JSON");
        Path p = tmp.resolve("short.safetensors");
        Files.write(p, new byte[]{1, 0, 0, 0, 0, 0, 0, 0x7f});
        assertError(p, "header length");
    }

    private static void assertError(Path p, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), e.getMessage());
    }
}
