// The per-row CPU kernels, compiled once per instruction set and picked at run time.
#ifndef DNO_CPU_ROWS_H
#define DNO_CPU_ROWS_H

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

#include "dno_loss.h"

namespace dno {

struct bf16 { uint16_t bits; };

struct RowStats {
    float lse;    // log sum exp of the row
    bool finite;  // false when the row holds a NaN or an infinity
};

using StatsFn = RowStats (*)(const void* row, int64_t vocab);
using GradFn = void (*)(const void* row, void* grad_row, int64_t vocab, float lse, float coef, int64_t label);

// Columns [c0, c1) of y [rows, n] = x [rows, k] (row stride ldx) times w [n, k]^T (+ bias [n]);
// w float32 or bf16 by the entry (float32 products and sums either way).
using SmallLinearFn = void (*)(const float* x, int64_t rows, int64_t k, int64_t ldx, const void* w, int64_t n,
                               const float* bias, float* y, int64_t c0, int64_t c1);

// AdamW's per-element constants, rounded to float32 once (cpu_adamw.inc).
struct AdamWScalars {
    float grad_scale, decay, beta1, one_minus_beta1, beta2, one_minus_beta2, bias_correction2, eps, neg_step;
    bool decays, zero_grad;
};

using AdamWFn = void (*)(float* p, float* g, float* m, float* v, int64_t n, const AdamWScalars& s);
using SqNormFn = double (*)(const float* g, int64_t n, bool* finite);

struct RowKernels {
    StatsFn stats[3];  // indexed by dno_dtype DNO_F32, DNO_BF16, DNO_F16
    GradFn grad[3];
    SmallLinearFn small_linear = nullptr;       // float32 weights
    SmallLinearFn small_linear_bf16w = nullptr; // bf16 weights
    AdamWFn adamw = nullptr;
    SqNormFn grad_sq_norm = nullptr;
    const char* isa = "";  // "baseline", "avx2" or "avx512"
};

// The kernels this process uses (cpu_rows_dispatch.cpp): the best this CPU supports (AVX-512,
// AVX2 or baseline x86-64), unless DNO_CPU_KERNELS names another. Returns DNO_OK, or
// DNO_E_INVALID_ARGUMENT (with a message) when DNO_CPU_KERNELS asks for what cannot run here.
int active_row_kernels(const RowKernels** kernels);

// The most threads a CPU kernel starts (more are treated as this many; the Java API refuses more).
constexpr int kMaxThreads = 1024;

// Helper threads for a SharePool call given a kernel's num_threads (0 = every core): the
// threads, at most kMaxThreads, less the calling thread.
inline int share_helpers(int num_threads) {
    const int threads = num_threads > 0 ? num_threads : (int)std::max(1u, std::thread::hardware_concurrency());
    return std::min(threads, kMaxThreads) - 1;
}

// Runs body(begin, end) over [0, count) split into contiguous chunks on up to `threads` threads
// (at most kMaxThreads). A thread the system refuses is not an error: its chunk runs on this one.
template <typename Body>
inline void parallel_for(int64_t count, int threads, Body body) {
    if (count <= 0) return;
    const int64_t workers = std::max<int64_t>(1, std::min<int64_t>(std::min(threads, kMaxThreads), count));
    if (workers == 1) { body(0, count); return; }
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    const int64_t chunk = (count + workers - 1) / workers;
    int64_t w = 1;
    try {
        for (; w < workers; ++w) {
            const int64_t b = w * chunk, e = std::min(count, b + chunk);
            if (b < e) pool.emplace_back([=] { body(b, e); });
        }
    } catch (const std::system_error&) {
        // The system gave no more threads: the chunks not started run here. The chunks are
        // independent, so the result is the same; only the speed is not.
    }
    for (; w < workers; ++w) {
        const int64_t b = w * chunk, e = std::min(count, b + chunk);
        if (b < e) body(b, e);
    }
    body(0, std::min(count, chunk));
    for (auto& t : pool) t.join();
}

}  // namespace dno

namespace dno_generic { dno::RowKernels kernels(); }
namespace dno_avx2 { dno::RowKernels kernels(); }
namespace dno_avx512 { dno::RowKernels kernels(); }

#endif
