// dno_llama_decode_layer_cpu: one Llama-family decoder layer (Llama, Mistral's sliding window, Qwen2's
// q/k/v biases, Qwen3's q/k norms) for one new token per sequence (the decode step of sampling), in
// one call: RMSNorm, the q/k/v products, RoPE, the KV-cache write, attention over the cache, the o
// product and the residual, RMSNorm, the SiLU-gated MLP and the residual.
//
// Why: through libtorch the same layer is ~45 small ops (views, casts, masks, softmax, adds), each
// a dispatch, an allocation and a JNI crossing: ~12 ms of a 39M-parameter model's decode step on
// top of the products themselves (perf, 2026-12-02), and serial, so that threads speed up only the
// products. Here the products go through the small-row kernel (dno_small_linear_cpu, split by
// columns over num_threads) and everything between them is a loop over a few rows.
//
// Float32 throughout (bf16 weights, when given, are widened exactly). The order of the sums is
// fixed: bitwise the same result for every run and thread count; against libtorch's ops it agrees
// to float32 rounding (norms, dot products and softmax sum in another order).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "dno_internal.h"

namespace {

// Hot loops are compiled for AVX-512, AVX2 and the baseline (GCC function multiversioning, picked
// once at load); the file is built with -ffp-contract=off and every sum is written with explicit
// partial sums in a fixed order, so each clone computes bitwise the same result.
#define DNO_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

// exp(x) in float32 for a whole array: Cephes' expf (x = n ln2 + r, |r| <= ln2/2, degree-5
// polynomial, 2^n put into the exponent), written without branches so that it vectorizes; about
// 1 ulp. Inputs below -87.3 give 0 (as the softmax of blocked slots needs), above 88.7 inf.
inline float exp_one(float x) {
    const float hi = 88.72283905206835f, lo = -87.33654475055310f;
    const float cx = std::min(std::max(x, lo), hi);
    const float n = std::floor(cx * 1.44269504088896341f + 0.5f);
    float r = cx - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, 4);
    const float y = p * scale;
    return x < lo ? 0.0f : y;
}

DNO_CLONES void silu_mul(int64_t n, float* g, const float* u) {
    for (int64_t i = 0; i < n; ++i) {
        const float e = exp_one(-g[i]);
        g[i] = g[i] / (1.0f + e) * u[i];
    }
}

// sum of term(i) over i < n in 16 partial sums, then those in a fixed order (it vectorizes, and
// every clone adds in the same order)
template <class Term>
inline float fixed_order_sum(int64_t n, Term term) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; ++j) acc[j] += term(i + j);
    for (int j = 0; i < n; ++i, ++j) acc[j] += term(i);
    float s = 0;
    for (int j = 0; j < 16; ++j) s += acc[j];
    return s;
}

inline float dot(const float* a, const float* b, int64_t n) {
    return fixed_order_sum(n, [&](int64_t i) { return a[i] * b[i]; });
}

// One head of one row: out = softmax(scale * q.k_t over valid t <= position) . v
DNO_CLONES void attend_head(const float* q, const float* keys, const float* values, const uint8_t* valid, int64_t position,
                            int64_t d, float scale, float* scores, float* out) {
    float mx = -INFINITY;
    for (int64_t t = 0; t <= position; ++t) {
        const float s = valid[t] ? dot(q, keys + t * d, d) * scale : -INFINITY;
        scores[t] = s;
        mx = std::max(mx, s);
    }
    for (int64_t t = 0; t <= position; ++t) scores[t] = valid[t] ? scores[t] - mx : -1e30f;
    for (int64_t t = 0; t <= position; ++t) scores[t] = exp_one(scores[t]);
    const float inv = 1.0f / fixed_order_sum(position + 1, [&](int64_t t) { return scores[t]; });
    for (int64_t i = 0; i < d; ++i) out[i] = 0.0f;
    for (int64_t tt = 0; tt <= position; ++tt) {
        const float p = scores[tt] * inv;
        const float* vt = values + tt * d;
        for (int64_t i = 0; i < d; ++i) out[i] += p * vt[i];
    }
}

// y[r] = w * (x[r] * rsqrt(mean(x[r]^2) + eps)), as the model's RMSNorm (the mean summed in double)
void rms_norm(const float* x, int64_t rows, int64_t n, const float* w, float eps, float* y) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * n;
        double sq = 0;
        for (int64_t i = 0; i < n; ++i) sq += (double)xr[i] * xr[i];
        const float var = (float)(sq / (double)n);
        const float inv = 1.0f / std::sqrt(var + eps);
        float* yr = y + r * n;
        for (int64_t i = 0; i < n; ++i) yr[i] = w[i] * (xr[i] * inv);
    }
}

void add_bias(float* y, int64_t rows, int64_t n, const float* bias) {
    if (!bias) return;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < n; ++i) y[r * n + i] += bias[i];
}

// x * cos + rotate_half(x) * sin over each head's head_dim values, in place
void rope(float* v, int64_t heads, int64_t d, const float* cos, const float* sin) {
    const int64_t half = d / 2;
    for (int64_t h = 0; h < heads; ++h) {
        float* x = v + h * d;
        float tmp[512];
        for (int64_t i = 0; i < d; ++i) tmp[i] = x[i];
        for (int64_t i = 0; i < d; ++i) {
            const float rot = i < half ? -tmp[i + half] : tmp[i - half];
            x[i] = tmp[i] * cos[i] + rot * sin[i];
        }
    }
}

struct Scratch {
    std::vector<float> h, q, k, v, att, o, g, u;
    std::vector<float> scores;
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

}  // namespace

extern "C" int dno_llama_decode_layer_cpu(int64_t batch, int64_t hidden, int64_t heads, int64_t kv_heads,
                                          int64_t head_dim, int64_t intermediate, float* x, const float* input_norm,
                                          const float* post_norm, float eps, int weight_dtype, const void* wq,
                                          const void* wk, const void* wv, const void* wo, const void* wgate,
                                          const void* wup, const void* wdown, const float* bq, const float* bk,
                                          const float* bv, const float* q_norm, const float* k_norm,
                                          const float* cos, const float* sin, float* keys, float* values,
                                          const uint8_t* key_valid, int64_t capacity, int64_t position, int64_t window,
                                          float scale, int num_threads) {
    using namespace dno;
    clear_error();
    try {
        if (batch < 1) return fail(DNO_E_INVALID_ARGUMENT, "batch must be at least 1, got " + std::to_string(batch));
        if (hidden < 1 || intermediate < 1)
            return fail(DNO_E_INVALID_ARGUMENT, "hidden and intermediate must be at least 1, got " + std::to_string(hidden) +
                                                    " and " + std::to_string(intermediate));
        if (heads < 1 || kv_heads < 1 || heads % kv_heads != 0)
            return fail(DNO_E_INVALID_ARGUMENT, "heads (" + std::to_string(heads) + ") must be a positive multiple of kv_heads (" +
                                                    std::to_string(kv_heads) + ")");
        if (head_dim < 2 || head_dim % 2 != 0 || head_dim > 512)
            return fail(DNO_E_INVALID_ARGUMENT, "head_dim must be even and in [2, 512], got " + std::to_string(head_dim));
        if (capacity < 1 || position < 0 || position >= capacity)
            return fail(DNO_E_INVALID_ARGUMENT, "position (" + std::to_string(position) + ") must be in [0, capacity = " +
                                                    std::to_string(capacity) + ")");
        if (weight_dtype != DNO_F32 && weight_dtype != DNO_BF16)
            return fail(DNO_E_INVALID_ARGUMENT, "weight_dtype must be DNO_F32 or DNO_BF16, got " + std::to_string(weight_dtype));
        if (!x || !input_norm || !post_norm || !wq || !wk || !wv || !wo || !wgate || !wup || !wdown || !cos || !sin || !keys ||
            !values || !key_valid)
            return fail(DNO_E_INVALID_ARGUMENT, "a pointer argument is NULL");
        if (num_threads < 0)
            return fail(DNO_E_INVALID_ARGUMENT, "num_threads must be >= 0, got " + std::to_string(num_threads));
        if (window < 0) return fail(DNO_E_INVALID_ARGUMENT, "window must be >= 0 (0 = none), got " + std::to_string(window));
        if ((q_norm == nullptr) != (k_norm == nullptr))
            return fail(DNO_E_INVALID_ARGUMENT, "q_norm and k_norm must be given together");

        const int64_t qn = heads * head_dim, kvn = kv_heads * head_dim, groups = heads / kv_heads;
        Scratch& s = scratch();
        s.h.resize(batch * hidden);
        s.q.resize(batch * qn);
        s.k.resize(batch * kvn);
        s.v.resize(batch * kvn);
        s.att.resize(batch * qn);
        s.o.resize(batch * hidden);
        s.g.resize(batch * intermediate);
        s.u.resize(batch * intermediate);
        s.scores.resize(position + 1);

        auto lin = [&](const float* in, int64_t n_in, const void* w, int64_t n_out, float* out) {
            return dno_small_linear_cpu(batch, n_in, n_out, in, n_in, weight_dtype, w, nullptr, out, num_threads);
        };
        int rc;
        rms_norm(x, batch, hidden, input_norm, eps, s.h.data());
        if ((rc = lin(s.h.data(), hidden, wq, qn, s.q.data())) != DNO_OK) return rc;
        if ((rc = lin(s.h.data(), hidden, wk, kvn, s.k.data())) != DNO_OK) return rc;
        if ((rc = lin(s.h.data(), hidden, wv, kvn, s.v.data())) != DNO_OK) return rc;

        add_bias(s.q.data(), batch, qn, bq);
        add_bias(s.k.data(), batch, kvn, bk);
        add_bias(s.v.data(), batch, kvn, bv);
        if (q_norm) {   // Qwen3: RMSNorm over each head's vector, before RoPE
            rms_norm(s.q.data(), batch * heads, head_dim, q_norm, eps, s.q.data());
            rms_norm(s.k.data(), batch * kv_heads, head_dim, k_norm, eps, s.k.data());
        }
        // a sliding window sees the slots after position - window only
        const int64_t first_slot = window > 0 ? std::max<int64_t>(0, position - window + 1) : 0;
        for (int64_t b = 0; b < batch; ++b) {
            const float* cb = cos + b * head_dim;
            const float* sb = sin + b * head_dim;
            rope(s.q.data() + b * qn, heads, head_dim, cb, sb);
            rope(s.k.data() + b * kvn, kv_heads, head_dim, cb, sb);
            for (int64_t kh = 0; kh < kv_heads; ++kh) {
                const int64_t slot = ((b * kv_heads + kh) * capacity + position) * head_dim;
                std::copy_n(s.k.data() + b * kvn + kh * head_dim, head_dim, keys + slot);
                std::copy_n(s.v.data() + b * kvn + kh * head_dim, head_dim, values + slot);
            }
            // attention of the new token over slots 0..position that hold real tokens (softmax in
            // float32: blocked slots have probability 0 exactly, as after libtorch's masked_fill)
            const uint8_t* valid = key_valid + b * capacity;
            for (int64_t hq = 0; hq < heads; ++hq) {
                const int64_t kh = hq / groups;
                const float* qv = s.q.data() + b * qn + hq * head_dim;
                const float* kbase = keys + (b * kv_heads + kh) * capacity * head_dim;
                const float* vbase = values + (b * kv_heads + kh) * capacity * head_dim;
                attend_head(qv, kbase + first_slot * head_dim, vbase + first_slot * head_dim, valid + first_slot,
                            position - first_slot, head_dim, scale, s.scores.data(), s.att.data() + b * qn + hq * head_dim);
            }
        }
        if ((rc = lin(s.att.data(), qn, wo, hidden, s.o.data())) != DNO_OK) return rc;
        for (int64_t i = 0; i < batch * hidden; ++i) x[i] += s.o[i];

        rms_norm(x, batch, hidden, post_norm, eps, s.h.data());
        if ((rc = lin(s.h.data(), hidden, wgate, intermediate, s.g.data())) != DNO_OK) return rc;
        if ((rc = lin(s.h.data(), hidden, wup, intermediate, s.u.data())) != DNO_OK) return rc;
        silu_mul(batch * intermediate, s.g.data(), s.u.data());
        if ((rc = lin(s.g.data(), intermediate, wdown, hidden, s.o.data())) != DNO_OK) return rc;
        for (int64_t i = 0; i < batch * hidden; ++i) x[i] += s.o[i];
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_llama_decode_layer_cpu");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_llama_decode_layer_cpu: ") + e.what());
    }
}
