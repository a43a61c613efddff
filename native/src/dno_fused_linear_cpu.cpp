// CPU implementation of the fused-linear DNO loss (see dno_loss.h for the contract and
// fused_plan.h for the chunking).
//
// Per chunk of R counted rows (float32 throughout; 16-bit inputs are converted on the way in):
//   Hc [R,H]  gathered hidden rows
//   Lc [R,V]  = Hc @ W^T (+ bias)                         sgemm 1
//   per row: log-sum-exp and the label's log-prob          (the logits-level row kernel)
//   sequence sums -> z -> per-sequence coefficient         (float64, fixed order)
//   Lc <- coef * (onehot - softmax), in place              (the logits-level row kernel)
//   grad_bias   += column sums of Lc                       (float64, fixed order)
//   grad_weight += Lc^T @ Hc                               sgemm 2
//   Hc <- Lc @ W, scattered into grad_hidden               sgemm 3 (Hc is free by then)
// Extra memory: R*(V+H)*4 bytes for the chunk, O(N*T + V) for the rest, and for 16-bit weights a
// float32 copy of the weight and of its gradient (outside the budget, see dno_loss.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cpu_rows.h"
#include "dno_internal.h"
#include "fused_plan.h"

namespace dno {
namespace {

// cblas_sgemm: (order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc).
using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using SetThreadsFn = void (*)(int);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

// Converts n elements starting at element `first` of `src` to float32.
void convert_to_float(int dtype, const void* src, int64_t first, int64_t n, float* dst) {
    if (dtype == DNO_F32) { std::memcpy(dst, (const float*)src + first, (size_t)n * 4); return; }
    for (int64_t i = 0; i < n; ++i) dst[i] = load_as_float(dtype, src, first + i);
}

// Index of the first non-finite element among n, or -1.
int64_t first_nonfinite(int dtype, const void* base, int64_t first, int64_t n) {
    if (dtype == DNO_F32) {
        // float32 (the lm_head every training step): a branchless exponent test per block, which
        // the compiler vectorises (an early-exit loop it does not); the element only where one is bad
        const uint32_t* bits = static_cast<const uint32_t*>(base) + first;
        constexpr int64_t kBlock = 4096;
        for (int64_t b = 0; b < n; b += kBlock) {
            const int64_t e = std::min(n, b + kBlock);
            uint32_t bad = 0;
            for (int64_t i = b; i < e; ++i) bad |= (uint32_t)((bits[i] & 0x7f800000u) == 0x7f800000u);
            if (bad)
                for (int64_t i = b; i < e; ++i)
                    if ((bits[i] & 0x7f800000u) == 0x7f800000u) return i;
        }
        return -1;
    }
    for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(load_as_float(dtype, base, first + i))) return i;
    return -1;
}

// Every extra byte this call allocates goes through here, so `peak` is what it really used.
struct Scratch {
    int64_t bytes = 0;
    template <typename T> std::unique_ptr<T[]> alloc(int64_t n) {
        bytes += n * (int64_t)sizeof(T);
        return std::unique_ptr<T[]>(new T[(size_t)n]);
    }
};

}  // namespace
}  // namespace dno

extern "C" int dno_fused_linear_cpu(int64_t pairs, int64_t seq_len, int64_t hidden_size, int64_t vocab, int dtype,
                                    const void* hidden, const void* weight, const void* bias, int labels_dtype,
                                    const void* labels, int64_t ignore_index, const float* ref_logps,
                                    const float* targets, float beta, int average, float grad_scale, float* loss,
                                    float* logps, float* z, float* chosen_rewards, float* rejected_rewards,
                                    void* grad_hidden, void* grad_weight, void* grad_bias, int accumulate,
                                    int64_t memory_budget, int64_t* stats, void* sgemm_ptr, void* set_threads_ptr,
                                    int num_threads) {
    using namespace dno;
    clear_error();
    try {
        const int64_t P = pairs, T = seq_len, H = hidden_size, V = vocab, N = 2 * pairs;
        int rc = check_common(P, T, V, dtype, hidden, labels_dtype, labels, ref_logps, beta, grad_scale, loss, logps, z);
        if (rc != DNO_OK) {
            if (std::string(dno_last_error()).rfind("logits", 0) == 0)  // the shared check names the logits
                return fail(rc, "hidden" + std::string(dno_last_error()).substr(6));
            return rc;
        }
        if (H <= 0) return fail(DNO_E_INVALID_ARGUMENT, "hidden_size must be > 0, got " + std::to_string(H));
        if (H > 2147483647LL || V > 2147483647LL)
            return fail(DNO_E_INVALID_ARGUMENT, "hidden_size and vocab must be below 2^31 for BLAS");
        if (!weight) return fail(DNO_E_INVALID_ARGUMENT, "weight is NULL");
        if (grad_bias && !bias) return fail(DNO_E_INVALID_ARGUMENT, "grad_bias needs bias (bias is NULL)");
        if (!sgemm_ptr) return fail(DNO_E_INVALID_ARGUMENT, "sgemm is NULL (no BLAS was given)");
        if (memory_budget < 0) return fail(DNO_E_INVALID_ARGUMENT, "memory_budget must be >= 0, got " + std::to_string(memory_budget));
        const int64_t budget = memory_budget > 0 ? memory_budget : DNO_FUSED_DEFAULT_BUDGET;
        const SgemmFn sgemm = (SgemmFn)sgemm_ptr;
        const int threads = std::min(kMaxThreads, num_threads > 0 ? num_threads : (int)std::max(1u, std::thread::hardware_concurrency()));
        if (set_threads_ptr && num_threads > 0) ((SetThreadsFn)set_threads_ptr)(num_threads);

        if ((rc = check_ref_and_targets(P, ref_logps, targets)) != DNO_OK) return rc;
        const RowKernels* k = nullptr;
        if ((rc = active_row_kernels(&k)) != DNO_OK) return rc;

        // Memory: what grows with the counted rows (plan, lse, token log-probs), V-sized
        // accumulators, then as many chunk rows as the rest of the budget holds.
        const int64_t positions = N * T;
        const bool f32 = dtype == DNO_F32;
        const int64_t fixed = positions * (8 + 8 + 4 + 4) + N * 32 + P * 8 + (bias ? V * (f32 ? 0 : 4) : 0) +
                              (grad_bias ? V * 8 : 0);
        const int64_t per_row = 4 * (V + H) + 1;
        if (budget - fixed < per_row)
            return fail(DNO_E_INVALID_ARGUMENT, "memory_budget " + std::to_string(budget) + " bytes is too small: " +
                                                    std::to_string(fixed + per_row) + " bytes are needed for one row of " +
                                                    std::to_string(V) + " logits");
        const int64_t max_rows = std::min<int64_t>((budget - fixed) / per_row, 1 << 30);

        FusedPlan plan;
        rc = make_fused_plan(P, T, V, labels_dtype, labels, ignore_index, max_rows, plan);
        if (rc != DNO_OK) return rc;
        const int64_t R_all = (int64_t)plan.rows.size();

        // Every value that feeds a logit is checked before any gradient is written.
        {
            std::vector<int64_t> bad_w((size_t)threads, -1);
            parallel_for(V, threads, [&](int64_t b, int64_t e) {
                const int64_t i = first_nonfinite(dtype, weight, b * H, (e - b) * H);
                if (i >= 0) bad_w[(size_t)(b * threads / V)] = b * H + i;
            });
            for (int64_t i : bad_w)
                if (i >= 0)
                    return fail(DNO_E_NONFINITE, "weight[" + std::to_string(i / H) + "," + std::to_string(i % H) +
                                                     "] is not finite");
            if (bias) {
                const int64_t i = first_nonfinite(dtype, bias, 0, V);
                if (i >= 0) return fail(DNO_E_NONFINITE, "bias[" + std::to_string(i) + "] is not finite");
            }
            for (int64_t r = 0; r < R_all; ++r) {
                const int64_t i = first_nonfinite(dtype, hidden, plan.rows[r] * H, H);
                if (i >= 0)
                    return fail(DNO_E_NONFINITE, "hidden[" + std::to_string(plan.rows[r] / T) + "," +
                                                     std::to_string(plan.rows[r] % T) + "," + std::to_string(i) +
                                                     "] is not finite");
            }
        }

        Scratch scratch;
        scratch.bytes = R_all * 16 + N * 16;  // the plan's vectors
        const bool backward = grad_hidden || grad_weight || grad_bias;
        std::unique_ptr<float[]> w32_own, gw32_own, bias32_own;
        const float* W = (const float*)weight;
        if (!f32) {
            w32_own = scratch.alloc<float>(V * H);
            parallel_for(V, threads, [&](int64_t b, int64_t e) { convert_to_float(dtype, weight, b * H, (e - b) * H, w32_own.get() + b * H); });
            W = w32_own.get();
        }
        const float* B = (const float*)bias;
        if (bias && !f32) {
            bias32_own = scratch.alloc<float>(V);
            convert_to_float(dtype, bias, 0, V, bias32_own.get());
            B = bias32_own.get();
        }
        float* GW = nullptr;  // float32 grad_weight target of the GEMMs
        if (grad_weight) {
            if (f32) GW = (float*)grad_weight;
            else { gw32_own = scratch.alloc<float>(V * H); GW = gw32_own.get(); }
        }
        bool gw_started = grad_weight && f32 && accumulate;  // beta 0 for the first GEMM into GW otherwise
        std::unique_ptr<double[]> gb_acc;
        if (grad_bias) {
            gb_acc = scratch.alloc<double>(V);
            std::fill(gb_acc.get(), gb_acc.get() + V, 0.0);
        }
        auto lse = scratch.alloc<float>(R_all);
        auto tok = scratch.alloc<float>(R_all);
        auto seq_sum = scratch.alloc<double>(N);
        auto coef = scratch.alloc<float>(N);
        auto pair_loss = scratch.alloc<double>(P);
        const int64_t R_max = plan.chunk_rows;
        auto Hc = scratch.alloc<float>(std::max<int64_t>(R_max, 1) * H);
        auto Lc = scratch.alloc<float>(std::max<int64_t>(R_max, 1) * V);
        int64_t gemms = 0;

        // Ignored positions: zero gradient (write mode); counted rows are written by their chunk.
        if (grad_hidden && !accumulate) {
            const size_t es = f32 ? 4 : 2;
            parallel_for(positions, threads, [&](int64_t b, int64_t e) {
                for (int64_t r = b; r < e; ++r)
                    if (label_at(labels, labels_dtype == DNO_I64, r) == ignore_index)
                        std::memset((char*)grad_hidden + (size_t)(r * H) * es, 0, (size_t)H * es);
            });
        }

        // Logits of compact rows [r0, r0+R) into Lc, and (first pass) their lse / token log-prob.
        auto logits_chunk = [&](int64_t r0, int64_t R, bool stats_pass) -> int {
            parallel_for(R, threads, [&](int64_t b, int64_t e) {
                for (int64_t r = b; r < e; ++r) {
                    convert_to_float(dtype, hidden, plan.rows[r0 + r] * H, H, Hc.get() + r * H);
                    if (B) std::memcpy(Lc.get() + r * V, B, (size_t)V * 4);
                }
            });
            sgemm(kRowMajor, kNoTrans, kTrans, (int)R, (int)V, (int)H, 1.0f, Hc.get(), (int)H, W, (int)H,
                  B ? 1.0f : 0.0f, Lc.get(), (int)V);
            ++gemms;
            if (!stats_pass) return DNO_OK;
            std::vector<char> finite((size_t)R, 1);
            parallel_for(R, threads, [&](int64_t b, int64_t e) {
                for (int64_t r = b; r < e; ++r) {
                    const float* row = Lc.get() + r * V;
                    RowStats st = k->stats[DNO_F32](row, V);
                    finite[(size_t)r] = st.finite;
                    lse[r0 + r] = st.lse;
                    tok[r0 + r] = row[plan.row_label[r0 + r]] - st.lse;
                }
            });
            for (int64_t r = 0; r < R; ++r)
                if (!finite[(size_t)r])
                    return fail(DNO_E_NONFINITE, "logits at position [" + std::to_string(plan.rows[r0 + r] / T) + "," +
                                                     std::to_string(plan.rows[r0 + r] % T) +
                                                     "] overflow (hidden @ weight^T is not finite)");
            return DNO_OK;
        };
        // Gradient of the chunk in Lc (logits in, coefficient-scaled onehot - softmax out), then
        // the three gradient products.
        auto backward_chunk = [&](int64_t r0, int64_t R) {
            parallel_for(R, threads, [&](int64_t b, int64_t e) {
                for (int64_t r = b; r < e; ++r) {
                    float* row = Lc.get() + r * V;
                    k->grad[DNO_F32](row, row, V, lse[r0 + r], coef[plan.rows[r0 + r] / T], plan.row_label[r0 + r]);
                }
            });
            if (grad_bias) {
                parallel_for(V, threads, [&](int64_t b, int64_t e) {
                    for (int64_t r = 0; r < R; ++r) {
                        const float* row = Lc.get() + r * V;
                        for (int64_t v = b; v < e; ++v) gb_acc[v] += (double)row[v];
                    }
                });
            }
            if (grad_weight) {
                sgemm(kRowMajor, kTrans, kNoTrans, (int)V, (int)H, (int)R, 1.0f, Lc.get(), (int)V, Hc.get(), (int)H,
                      gw_started ? 1.0f : 0.0f, GW, (int)H);
                gw_started = true;
                ++gemms;
            }
            if (grad_hidden) {
                sgemm(kRowMajor, kNoTrans, kNoTrans, (int)R, (int)H, (int)V, 1.0f, Lc.get(), (int)V, W, (int)H, 0.0f,
                      Hc.get(), (int)H);
                ++gemms;
                parallel_for(R, threads, [&](int64_t b, int64_t e) {
                    for (int64_t r = b; r < e; ++r) {
                        const float* src = Hc.get() + r * H;
                        const int64_t base = plan.rows[r0 + r] * H;
                        if (accumulate)
                            for (int64_t h = 0; h < H; ++h) store_from_float(dtype, grad_hidden, base + h, load_as_float(dtype, grad_hidden, base + h) + src[h]);
                        else
                            for (int64_t h = 0; h < H; ++h) store_from_float(dtype, grad_hidden, base + h, src[h]);
                    }
                });
            }
        };

        for (const FusedGroup& g : plan.groups) {
            const int64_t rows = g.row_end - g.row_begin;
            const int64_t step = g.two_pass ? max_rows : std::max<int64_t>(rows, 1);
            for (int64_t r0 = g.row_begin; r0 < g.row_end; r0 += step) {
                rc = logits_chunk(r0, std::min(step, g.row_end - r0), true);
                if (rc != DNO_OK) return rc;
            }
            for (int64_t i = g.pair_begin; i < g.pair_end; ++i)
                for (int64_t n : {i, i + P}) {
                    double s = 0.0;  // t order, as in dno_loss_cpu
                    for (int64_t r = plan.seq_begin[n]; r < plan.seq_begin[n] + plan.seq_count[n]; ++r) s += (double)tok[r];
                    seq_sum[n] = s;
                }
            host_pair_math(P, g.pair_begin, g.pair_end, seq_sum.get(), plan.seq_count.data(), ref_logps, targets, beta,
                           average, grad_scale, logps, z, chosen_rewards, rejected_rewards, pair_loss.get(), coef.get());
            if (!backward || rows == 0) continue;
            if (!g.two_pass) {
                backward_chunk(g.row_begin, rows);
                continue;
            }
            for (int64_t r0 = g.row_begin; r0 < g.row_end; r0 += step) {
                const int64_t R = std::min(step, g.row_end - r0);
                logits_chunk(r0, R, false);
                backward_chunk(r0, R);
            }
        }
        double total = 0.0;
        for (int64_t i = 0; i < P; ++i) total += pair_loss[i];
        *loss = (float)(total / (double)P);

        if (grad_weight) {
            if (f32) {
                if (!gw_started) std::memset(grad_weight, 0, (size_t)(V * H) * 4);
            } else {
                parallel_for(V, threads, [&](int64_t b, int64_t e) {
                    for (int64_t i = b * H; i < e * H; ++i) {
                        const float gv = gw_started ? GW[i] : 0.0f;
                        store_from_float(dtype, grad_weight, i, accumulate ? load_as_float(dtype, grad_weight, i) + gv : gv);
                    }
                });
            }
        }
        if (grad_bias)
            for (int64_t v = 0; v < V; ++v)
                store_from_float(dtype, grad_bias, v, (float)(accumulate ? load_as_float(dtype, grad_bias, v) + gb_acc[v] : gb_acc[v]));
        if (stats) {
            stats[0] = scratch.bytes;
            stats[1] = plan.chunks;
            stats[2] = gemms;
            stats[3] = plan.two_pass_pairs;
        }
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_fused_linear_cpu");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_fused_linear_cpu: ") + e.what());
    }
}
