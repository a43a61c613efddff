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
        return raw(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private Path raw(byte[] h, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void rejectsBrokenFilesNamingFileAndTensor() throws IOException {
        assertError(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8), "'w'", "needs 8 bytes");
        assertError(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "cover 8 bytes", "holds 4");
        assertError(raw("{\"w\":{\"dtype\":\"X9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "'w'", "unknown dtype");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "'b'", "overlaps");
        assertError(raw("{not json", 0), "not valid JSON");
        Path p = tmp.resolve("short.safetensors");
        Files.write(p, new byte[]{1, 0, 0, 0, 0, 0, 0, 0x7f});
        assertError(p, "header length");
    }

    /**
     * The reference library's rules (huggingface/safetensors 0.8.0, checked with its Python
     * binding on these same bytes when this test was written): each case it refuses is refused here.
     */
    @Test
    void followsTheReferenceLibrarysRules() throws IOException {
        String a = "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        // accepted by the reference: whitespace around the object, unknown fields, null metadata, other dtypes, empty
        for (String ok : new String[]{"  {" + a + "}", "{" + a + "} \t\r\n", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"zz\":1}}",
                "{\"__metadata__\":null," + a + "}", "{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                "{\"a\":{\"dtype\":\"F4\",\"shape\":[8],\"data_offsets\":[0,4]}}",
                "{\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}," + a + "}"}) {
            try (SafetensorsFile f = SafetensorsFile.open(raw(ok, 4))) {
                assertTrue(f.contains("a"), ok);
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(raw("{}", 0))) {
            assertTrue(f.tensors().isEmpty());
        }
        assertError(raw("{" + a + "}x", 4), "not valid JSON", "column 55");
        assertError(raw("{" + a + "}{}", 4), "not valid JSON", "more after the object");
        assertError(raw("{" + a + "}\u0000", 4), "not valid JSON");
        assertError(raw("{" + a + "}", 5), "cover 4 bytes", "holds 5");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "'a'", "gap");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551615,3]}}", 4), "'a'", "data_offsets");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551620]}}", 4), "'a'", "not unsigned 64-bit");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,6,50],\"data_offsets\":[0,4]}}", 4), "'a'", "overflows 64 bits");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4), "'a'", "shape[0]");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "'a'", "shape[0]");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]}}", 4), "'a'", "two integers");
        assertError(raw("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2), "'a'", "whole bytes");
        assertError(raw("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "not valid JSON", "Duplicate field 'dtype'");
        assertError(raw("{" + a + "," + a + "}", 4), "Duplicate field 'a'");
        assertError(raw("{\"__metadata__\":{\"x\":\"1\",\"x\":\"2\"}," + a + "}", 4), "Duplicate field 'x'");
        assertError(raw("{\"__metadata__\":{\"x\":1}," + a + "}", 4), "__metadata__", "'x'", "not a string");
        assertError(raw("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "not valid JSON", "surrogate");
        assertError(raw("{\"__metadata__\":{\"x\":\"a\\udc00\"}}", 0), "lone UTF-16 surrogate", "\\udc00");
        assertError(raw("{" + a + ", \"b\": NaN}", 4), "not valid JSON");
        assertError(raw("{" + a + " /* x */}", 4), "not valid JSON");
        assertError(raw("\uFEFF{" + a + "}", 4), "byte-order mark");
        assertError(raw("", 0), "not valid JSON");
        byte[] name = "{\"a\u00ff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.ISO_8859_1);
        assertError(raw(name, 4), "not valid UTF-8", "byte 11");
        byte[] meta = "{\"__metadata__\":{\"x\":\"\u00ed\u00a0\u0080\"}}".getBytes(StandardCharsets.ISO_8859_1);  // an encoded surrogate
        assertError(raw(meta, 0), "not valid UTF-8");
        Path huge = tmp.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-2).array());
        assertError(huge, "18446744073709551614", "above the format's limit");
    }

    @Test
    void errorMessagesAreOneLineWhateverTheNames() throws IOException {
        Path p = raw("{\"line\\none\\u2028two\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p).close());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(e.getMessage().contains("'line\\u000aone\\u2028two'"), e.getMessage());
        SafetensorsException j = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(raw("{\n\"a\": [1,\n}", 0)).close());
        assertEquals(1, j.getMessage().lines().count(), j.getMessage());
        assertTrue(j.getMessage().contains("header line 3"), j.getMessage());
    }

    @Test
    void readingTheWrongDtypeIsAnError() throws IOException {
        Path p = raw("{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertTrue(assertThrows(SafetensorsException.class, () -> f.readFloats("a")).getMessage().contains("'a'"));
            assertTrue(assertThrows(SafetensorsException.class, () -> f.readLongs("a")).getMessage().contains("'a'"));
            assertTrue(assertThrows(SafetensorsException.class, () -> f.info("b")).getMessage().contains("'b'"));
        }
    }

    private static void assertError(Path p, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), e.getMessage());
    }
}
