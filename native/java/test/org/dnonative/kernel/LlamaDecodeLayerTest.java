package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LlamaDecodeLayer} against a float64 reference of the same layer written out here
 * (RMSNorm, q/k/v, RoPE, cache write, masked softmax attention with grouped heads, o, residual,
 * RMSNorm, SiLU-gated MLP, residual; Qwen2's q/k/v biases, Qwen3's per-head q/k norms, Mistral's
 * sliding window), on odd sizes, a cache with blocked slots (left padding), float32 and bf16 weights; random normal inputs from a seed per case that a failure prints.
 */
class LlamaDecodeLayerTest {
    record Setup(int batch, int hidden, int heads, int kvHeads, int d, int inter, int capacity, int position, long seed,
                 boolean bias, boolean qkNorm, int window) {
        Setup(int batch, int hidden, int heads, int kvHeads, int d, int inter, int capacity, int position, long seed) {
            this(batch, hidden, heads, kvHeads, d, inter, capacity, position, seed, false, false, 0);
        }
    }

    static final class Data {
        float[] x, inNorm, postNorm, q, k, v, o, gate, up, down, cos, sin, keys, values, bq, bk, bv, qNorm, kNorm;
        byte[] valid;
    }

    static Data data(Setup s) {
        SplittableRandom r = new SplittableRandom(s.seed);
        Data a = new Data();
        int qn = s.heads * s.d, kvn = s.kvHeads * s.d;
        a.x = SmallLinearTest.normal(r, s.batch * s.hidden, 1.0);
        a.inNorm = SmallLinearTest.normal(r, s.hidden, 1.0);
        a.postNorm = SmallLinearTest.normal(r, s.hidden, 1.0);
        a.q = SmallLinearTest.normal(r, qn * s.hidden, 1.0 / Math.sqrt(s.hidden));
        a.k = SmallLinearTest.normal(r, kvn * s.hidden, 1.0 / Math.sqrt(s.hidden));
        a.v = SmallLinearTest.normal(r, kvn * s.hidden, 1.0 / Math.sqrt(s.hidden));
        a.o = SmallLinearTest.normal(r, s.hidden * qn, 1.0 / Math.sqrt(qn));
        a.gate = SmallLinearTest.normal(r, s.inter * s.hidden, 1.0 / Math.sqrt(s.hidden));
        a.up = SmallLinearTest.normal(r, s.inter * s.hidden, 1.0 / Math.sqrt(s.hidden));
        a.down = SmallLinearTest.normal(r, s.hidden * s.inter, 1.0 / Math.sqrt(s.inter));
        if (s.bias) {
            a.bq = SmallLinearTest.normal(r, qn, 1.0);
            a.bk = SmallLinearTest.normal(r, kvn, 1.0);
            a.bv = SmallLinearTest.normal(r, kvn, 1.0);
        }
        if (s.qkNorm) {
            a.qNorm = SmallLinearTest.normal(r, s.d, 1.0);
            a.kNorm = SmallLinearTest.normal(r, s.d, 1.0);
        }
        a.cos = new float[s.batch * s.d];
        a.sin = new float[s.batch * s.d];
        for (int b = 0; b < s.batch; b++)
            for (int i = 0; i < s.d; i++) {
                double ang = (s.position - b) * Math.pow(10000, -2.0 * (i % (s.d / 2)) / s.d);
                a.cos[b * s.d + i] = (float) Math.cos(ang);
                a.sin[b * s.d + i] = (float) Math.sin(ang);
            }
        a.keys = SmallLinearTest.normal(r, s.batch * s.kvHeads * s.capacity * s.d, 1.0);
        a.values = SmallLinearTest.normal(r, s.batch * s.kvHeads * s.capacity * s.d, 1.0);
        a.valid = new byte[s.batch * s.capacity];
        for (int b = 0; b < s.batch; b++)
            for (int t = 0; t < s.capacity; t++) a.valid[b * s.capacity + t] = (byte) (t >= b && t <= s.position ? 1 : 0);  // row b: b padding slots
        return a;
    }

    static float[] bf16Rounded(float[] w) {
        float[] out = new float[w.length];
        for (int i = 0; i < w.length; i++) out[i] = Half.bf16ToFloat(Half.floatToBf16(w[i]));
        return out;
    }

    /** The layer in float64; writes the new keys/values into the given cache copies. */
    static double[] reference(Setup s, Data a, float[][] w, double[] keys, double[] values, float eps, float scale) {
        int qn = s.heads * s.d, kvn = s.kvHeads * s.d, groups = s.heads / s.kvHeads, half = s.d / 2;
        double[] x = new double[a.x.length];
        for (int i = 0; i < x.length; i++) x[i] = a.x[i];
        for (int b = 0; b < s.batch; b++) {
            double[] xb = java.util.Arrays.copyOfRange(x, b * s.hidden, (b + 1) * s.hidden);
            double[] h = norm(xb, a.inNorm, eps);
            double[] q = mat(w[0], h, qn), k = mat(w[1], h, kvn), v = mat(w[2], h, kvn);
            if (s.bias) {
                for (int i = 0; i < qn; i++) q[i] += a.bq[i];
                for (int i = 0; i < kvn; i++) { k[i] += a.bk[i]; v[i] += a.bv[i]; }
            }
            if (s.qkNorm) {
                for (int hq = 0; hq < s.heads; hq++) headNorm(q, hq * s.d, s.d, a.qNorm, eps);
                for (int kh = 0; kh < s.kvHeads; kh++) headNorm(k, kh * s.d, s.d, a.kNorm, eps);
            }
            rope(q, s.heads, s.d, a.cos, a.sin, b);
            rope(k, s.kvHeads, s.d, a.cos, a.sin, b);
            for (int kh = 0; kh < s.kvHeads; kh++)
                for (int i = 0; i < s.d; i++) {
                    int slot = ((b * s.kvHeads + kh) * s.capacity + s.position) * s.d + i;
                    keys[slot] = k[kh * s.d + i];
                    values[slot] = v[kh * s.d + i];
                }
            double[] att = new double[qn];
            for (int hq = 0; hq < s.heads; hq++) {
                int kh = hq / groups;
                double[] sc = new double[s.position + 1];
                double mx = Double.NEGATIVE_INFINITY;
                for (int t = 0; t <= s.position; t++) {
                    if (!sees(s, a, b, t)) continue;
                    double dot = 0;
                    for (int i = 0; i < s.d; i++) dot += q[hq * s.d + i] * keys[((b * s.kvHeads + kh) * s.capacity + t) * s.d + i];
                    sc[t] = dot * scale;
                    mx = Math.max(mx, sc[t]);
                }
                double sum = 0;
                for (int t = 0; t <= s.position; t++) if (sees(s, a, b, t)) sum += Math.exp(sc[t] - mx);
                for (int t = 0; t <= s.position; t++) {
                    if (!sees(s, a, b, t)) continue;
                    double p = Math.exp(sc[t] - mx) / sum;
                    for (int i = 0; i < s.d; i++) att[hq * s.d + i] += p * values[((b * s.kvHeads + kh) * s.capacity + t) * s.d + i];
                }
            }
            double[] o = mat(w[3], att, s.hidden);
            for (int i = 0; i < s.hidden; i++) xb[i] += o[i];
            double[] h2 = norm(xb, a.postNorm, eps);
            double[] g = mat(w[4], h2, s.inter), u = mat(w[5], h2, s.inter);
            for (int i = 0; i < s.inter; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
            double[] dn = mat(w[6], g, s.hidden);
            for (int i = 0; i < s.hidden; i++) x[b * s.hidden + i] = xb[i] + dn[i];
        }
        return x;
    }

    /** Whether row b's new token attends slot t: a real token, and inside the window if there is one. */
    static boolean sees(Setup s, Data a, int b, int t) {
        return a.valid[b * s.capacity + t] != 0 && (s.window == 0 || t > s.position - s.window);
    }

    static void headNorm(double[] v, int off, int d, float[] w, float eps) {
        double sq = 0;
        for (int i = 0; i < d; i++) sq += v[off + i] * v[off + i];
        double inv = 1 / Math.sqrt(sq / d + eps);
        for (int i = 0; i < d; i++) v[off + i] = w[i] * v[off + i] * inv;
    }

    static double[] norm(double[] x, float[] w, float eps) {
        double sq = 0;
        for (double v : x) sq += v * v;
        double inv = 1 / Math.sqrt(sq / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = w[i] * x[i] * inv;
        return y;
    }

    static double[] mat(float[] w, double[] x, int out) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) for (int i = 0; i < x.length; i++) y[o] += (double) w[o * x.length + i] * x[i];
        return y;
    }

    static void rope(double[] v, int heads, int d, float[] cos, float[] sin, int b) {
        int half = d / 2;
        for (int h = 0; h < heads; h++) {
            double[] t = java.util.Arrays.copyOfRange(v, h * d, (h + 1) * d);
            for (int i = 0; i < d; i++) v[h * d + i] = t[i] * cos[b * d + i] + (i < half ? -t[i + half] : t[i - half]) * sin[b * d + i];
        }
    }

    static float[][] run(Setup s, Data a, ElementType type, int threads, float[] keysOut, float[] valuesOut, float eps, float scale) {
        float[][] w = {a.q, a.k, a.v, a.o, a.gate, a.up, a.down};
        java.util.List<org.bytedeco.javacpp.Pointer> held = new java.util.ArrayList<>();
        long[] addr = new long[7];
        for (int i = 0; i < 7; i++) {
            if (type == ElementType.BFLOAT16) {
                short[] bits = new short[w[i].length];
                for (int j = 0; j < bits.length; j++) bits[j] = Half.floatToBf16(w[i][j]);
                ShortPointer p = new ShortPointer(bits);
                held.add(p);
                addr[i] = p.address();
            } else {
                FloatPointer p = new FloatPointer(w[i]);
                held.add(p);
                addr[i] = p.address();
            }
        }
        long[] extra = new long[5];
        float[][] extras = {a.bq, a.bk, a.bv, a.qNorm, a.kNorm};
        for (int i = 0; i < 5; i++)
            if (extras[i] != null) {
                FloatPointer p = new FloatPointer(extras[i]);
                held.add(p);
                extra[i] = p.address();
            }
        try (FloatPointer x = new FloatPointer(a.x); FloatPointer in = new FloatPointer(a.inNorm); FloatPointer post = new FloatPointer(a.postNorm);
             FloatPointer cos = new FloatPointer(a.cos); FloatPointer sin = new FloatPointer(a.sin);
             FloatPointer keys = new FloatPointer(a.keys); FloatPointer values = new FloatPointer(a.values);
             BytePointer valid = new BytePointer(a.valid)) {
            LlamaDecodeLayer.apply(new LlamaDecodeLayer.Shape(s.batch, s.hidden, s.heads, s.kvHeads, s.d, s.inter), x.address(),
                    new LlamaDecodeLayer.Weights(in.address(), post.address(), type, addr[0], addr[1], addr[2], addr[3], addr[4], addr[5], addr[6],
                            extra[0], extra[1], extra[2], extra[3], extra[4]),
                    eps, cos.address(), sin.address(), keys.address(), values.address(), valid.address(), s.capacity, s.position,
                    s.window, scale, threads);
            float[] out = new float[a.x.length];
            x.get(out);
            keys.get(keysOut);
            values.get(valuesOut);
            return new float[][]{out};
        } finally {
            for (org.bytedeco.javacpp.Pointer p : held) p.close();
        }
    }

    @ParameterizedTest(name = "bf16 weights = {0}")
    @ValueSource(booleans = {false, true})
    void matchesAFloat64Reference(boolean bf16) {
        for (Setup s : new Setup[]{new Setup(3, 40, 4, 2, 10, 24, 9, 6, 0), new Setup(1, 17, 3, 3, 6, 33, 4, 0, 0),
                new Setup(5, 96, 8, 2, 12, 70, 13, 12, 0),
                new Setup(3, 40, 4, 2, 10, 24, 9, 7, 0, true, false, 0),     // Qwen2: q/k/v biases
                new Setup(4, 48, 6, 2, 8, 30, 11, 9, 0, false, true, 0),     // Qwen3: per-head q/k norms
                new Setup(3, 40, 4, 4, 10, 24, 12, 10, 0, false, false, 4),  // Mistral: a sliding window of 4
                new Setup(2, 40, 4, 2, 10, 24, 12, 11, 0, true, true, 20)}) { // all three, a window wider than the context
            s = new Setup(s.batch, s.hidden, s.heads, s.kvHeads, s.d, s.inter, s.capacity, s.position,
                    CaseSeed.of("LlamaDecodeLayerTest", s.batch, s.hidden, s.heads, s.bias, s.qkNorm, s.window, bf16),
                    s.bias, s.qkNorm, s.window);
            Data a = data(s);
            float eps = 1e-5f, scale = (float) (1 / Math.sqrt(s.d));
            float[][] w = {a.q, a.k, a.v, a.o, a.gate, a.up, a.down};
            if (bf16) for (int i = 0; i < 7; i++) w[i] = bf16Rounded(w[i]);
            double[] keys = new double[a.keys.length], values = new double[a.values.length];
            for (int i = 0; i < keys.length; i++) { keys[i] = a.keys[i]; values[i] = a.values[i]; }
            double[] want = reference(s, a, w, keys, values, eps, scale);
            float[] gotKeys = new float[a.keys.length], gotValues = new float[a.values.length];
            float[] got = run(s, a, bf16 ? ElementType.BFLOAT16 : ElementType.FLOAT32, 1, gotKeys, gotValues, eps, scale)[0];
            for (int i = 0; i < got.length; i++)
                assertTrue(Math.abs(got[i] - want[i]) <= 2e-5 * (1 + Math.abs(want[i])),
                        s + ": x[" + i + "] = " + got[i] + ", float64 " + want[i]);
            for (int i = 0; i < keys.length; i++) {
                assertTrue(Math.abs(gotKeys[i] - keys[i]) <= 2e-5 * (1 + Math.abs(keys[i])), s + ": keys[" + i + "]");
                assertTrue(Math.abs(gotValues[i] - values[i]) <= 2e-5 * (1 + Math.abs(values[i])), s + ": values[" + i + "]");
            }
        }
    }

    @Test
    void everyThreadCountGivesTheSameBits() {
        Setup s = new Setup(4, 160, 8, 4, 20, 130, 11, 9, CaseSeed.of("LlamaDecodeLayerTest.threads", 4));
        Data a = data(s);
        float[] k1 = new float[a.keys.length], v1 = new float[a.values.length], k2 = k1.clone(), v2 = v1.clone();
        float[] one = run(s, a, ElementType.FLOAT32, 1, k1, v1, 1e-6f, 0.2f)[0];
        for (int t : new int[]{2, 3, 0}) {
            assertArrayEquals(one, run(s, a, ElementType.FLOAT32, t, k2, v2, 1e-6f, 0.2f)[0], s + " threads=" + t);
            assertArrayEquals(k1, k2, s + " keys, threads=" + t);
        }
    }

    @Test
    void refusesBadArgumentsByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LlamaDecodeLayer.Shape(1, 8, 3, 2, 4, 8));
        assertTrue(e.getMessage().contains("kvHeads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LlamaDecodeLayer.Shape(1, 8, 2, 2, 5, 8));
        assertTrue(e.getMessage().contains("headDim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LlamaDecodeLayer.Weights(1, 1, ElementType.FLOAT32, 1, 1, 0, 1, 1, 1, 1));
        assertTrue(e.getMessage().contains("v address"), e.getMessage());
        LlamaDecodeLayer.Shape s = new LlamaDecodeLayer.Shape(1, 8, 2, 2, 4, 8);
        LlamaDecodeLayer.Weights w = new LlamaDecodeLayer.Weights(1, 1, ElementType.FLOAT32, 1, 1, 1, 1, 1, 1, 1);
        e = assertThrows(IllegalArgumentException.class, () -> LlamaDecodeLayer.apply(s, 1, w, 1e-6f, 1, 1, 1, 1, 1, 4, 4, 0, 0.5f, 1));
        assertTrue(e.getMessage().contains("position"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LlamaDecodeLayer.apply(s, 1, w, 1e-6f, 1, 1, 1, 1, 1, 4, 2, -1, 0.5f, 1));
        assertTrue(e.getMessage().contains("window"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LlamaDecodeLayer.Weights(1, 1, ElementType.FLOAT32, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0));
        assertTrue(e.getMessage().contains("qNorm and kNorm"), e.getMessage());
    }
}
