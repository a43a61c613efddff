package org.dnonative.kernel;

/**
 * One Llama-family decoder layer (Llama; Mistral's sliding window; Qwen2's q/k/v biases; Qwen3's
 * q/k norms) for one new token per sequence, in one native call: the decode step of
 * sampling without the ~45 small framework ops per layer that a composition of tensor ops costs
 * (RMSNorm, q/k/v, RoPE, the KV-cache write, attention over the cache, o, residual, RMSNorm,
 * SiLU-gated MLP, residual; see dno_llama_decode_layer_cpu in dno_loss.h for the exact algebra).
 *
 * <p>Products go through {@link SmallLinear}'s kernel; deterministic (bitwise the same for every
 * thread count and run), and equal to a float32 composition of the same ops to float32 rounding.
 * Addresses are host memory; this class needs no libtorch.
 */
public final class LlamaDecodeLayer {
    /** The layer's sizes. */
    public record Shape(long batch, long hidden, long heads, long kvHeads, long headDim, long intermediate) {
        public Shape {
            if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            if (hidden < 1) throw new IllegalArgumentException("hidden must be at least 1, got " + hidden);
            if (intermediate < 1) throw new IllegalArgumentException("intermediate must be at least 1, got " + intermediate);
            if (heads < 1 || kvHeads < 1 || heads % kvHeads != 0)
                throw new IllegalArgumentException("heads (" + heads + ") must be a positive multiple of kvHeads (" + kvHeads + ")");
            if (headDim < 2 || headDim % 2 != 0 || headDim > 512)
                throw new IllegalArgumentException("headDim must be even and in [2, 512], got " + headDim);
        }
    }

    /**
     * Addresses of the layer's norms (float32) and matrices ([out, in], of {@code type}); the q/k/v
     * biases (Qwen2, float32 [out]) and the per-head q/k norms (Qwen3, float32 [headDim]; both or
     * neither) are 0 where the layer has none.
     */
    public record Weights(long inputNorm, long postNorm, ElementType type, long q, long k, long v, long o,
                          long gate, long up, long down, long qBias, long kBias, long vBias, long qNorm, long kNorm) {
        /** A plain Llama layer: no biases, no q/k norms. */
        public Weights(long inputNorm, long postNorm, ElementType type, long q, long k, long v, long o, long gate, long up, long down) {
            this(inputNorm, postNorm, type, q, k, v, o, gate, up, down, 0, 0, 0, 0, 0);
        }

        public Weights {
            if ((qNorm == 0) != (kNorm == 0)) throw new IllegalArgumentException("qNorm and kNorm must be given together");
            if (type != ElementType.FLOAT32 && type != ElementType.BFLOAT16)
                throw new IllegalArgumentException("weight type must be FLOAT32 or BFLOAT16, got " + type);
            long[] all = {inputNorm, postNorm, q, k, v, o, gate, up, down};
            String[] names = {"inputNorm", "postNorm", "q", "k", "v", "o", "gate", "up", "down"};
            for (int i = 0; i < all.length; i++)
                if (all[i] == 0) throw new IllegalArgumentException(names[i] + " address is 0");
        }
    }

    private LlamaDecodeLayer() {}

    /**
     * Runs the layer on {@code x [batch, hidden]} in place.
     *
     * @param cos, sin  [batch, headDim] RoPE factors of each row's position
     * @param keys, values the layer's cache [batch, kvHeads, capacity, headDim] float32
     * @param keyValid  [batch, capacity] bytes, nonzero where a slot holds a real token (slot {@code position} included)
     * @param position  the cache slot of the new token
     * @param window    a sliding window's length (the new token sees the slots after position - window), 0 for none
     */
    public static void apply(Shape s, long x, Weights w, float eps, long cos, long sin, long keys, long values, long keyValid,
                             long capacity, long position, long window, float scale, int numThreads) {
        if (s == null || w == null) throw new IllegalArgumentException("shape and weights are required");
        if (x == 0 || cos == 0 || sin == 0 || keys == 0 || values == 0 || keyValid == 0)
            throw new IllegalArgumentException("x, cos, sin, keys, values and keyValid addresses must not be 0");
        if (capacity < 1 || position < 0 || position >= capacity)
            throw new IllegalArgumentException("position (" + position + ") must be in [0, capacity = " + capacity + ")");
        if (window < 0) throw new IllegalArgumentException("window must be >= 0 (0 = none), got " + window);
        if (!(eps > 0) || !Float.isFinite(scale) || !(scale > 0))
            throw new IllegalArgumentException("eps and scale must be finite and > 0, got " + eps + " and " + scale);
        if (numThreads < 0 || numThreads > 1024)
            throw new IllegalArgumentException("numThreads must be in [0, 1024], got " + numThreads);
        NativeLibrary.ensureLoaded();
        NativeLibrary.check(DnoNative.dno_llama_decode_layer_cpu(s.batch(), s.hidden(), s.heads(), s.kvHeads(), s.headDim(),
                s.intermediate(), x, w.inputNorm(), w.postNorm(), eps, w.type().nativeCode(), w.q(), w.k(), w.v(), w.o(),
                w.gate(), w.up(), w.down(), w.qBias(), w.kBias(), w.vBias(), w.qNorm(), w.kNorm(), cos, sin, keys, values,
                keyValid, capacity, position, window, scale, numThreads));
    }
}
