// CPU implementation of the fused DNO loss (see dno_loss.h for the contract).
//
// Three phases over the N*T rows of logits:
//   1. per counted row, in parallel: log-sum-exp of the row (one read of the row);
//   2. serially, in float64 and a fixed order: sequence log-probs, z, the loss, and each
//      sequence's gradient coefficient dL/ds_n;
//   3. per row, in parallel: the gradient, written over `grad` (which may be the logits).
// Nothing is written to `grad` before every check has passed, so a failed call leaves in-place
// logits intact.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cpu_rows.h"
#include "dno_internal.h"

namespace dno {

const RowKernels& row_kernels() {
    static const RowKernels chosen = [] {
        __builtin_cpu_init();
        RowKernels k;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
            k = dno_avx512::kernels();
            k.isa = "avx512";
        } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2")) {
            k = dno_avx2::kernels();
            k.isa = "avx2";
        } else {
            k = dno_generic::kernels();
            k.isa = "x86-64";
        }
        return k;
    }();
    return chosen;
}

static float scalar_to_float(int dtype, const void* base, int64_t index) {
    if (dtype == DNO_F32) return ((const float*)base)[index];
    if (dtype == DNO_F16) return (float)((const _Float16*)base)[index];
    uint32_t bits = (uint32_t)((const uint16_t*)base)[index] << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

static int64_t label_at(int dtype, const void* labels, int64_t index) {
    return dtype == DNO_I32 ? (int64_t)((const int32_t*)labels)[index] : ((const int64_t*)labels)[index];
}

static size_t dtype_size(int dtype) { return dtype == DNO_F32 ? 4 : 2; }

static std::string position(int64_t row, int64_t seq_len) {
    return "[" + std::to_string(row / seq_len) + "," + std::to_string(row % seq_len) + "]";
}

}  // namespace dno

extern "C" int dno_loss_cpu(int64_t pairs, int64_t seq_len, int64_t vocab, int logits_dtype, const void* logits,
                            int labels_dtype, const void* labels, int64_t ignore_index,
                            const float* ref_logps, const float* targets, float beta, int average,
                            float grad_scale, float* loss, float* logps, float* z, float* chosen_rewards,
                            float* rejected_rewards, void* grad, int num_threads) {
    using namespace dno;
    clear_error();
    try {
        int rc = check_common(pairs, seq_len, vocab, logits_dtype, logits, labels_dtype, labels, ref_logps,
                              beta, grad_scale, loss, logps, z);
        if (rc != DNO_OK) return rc;
        const int64_t N = 2 * pairs, rows = N * seq_len;
        const int threads = num_threads > 0 ? num_threads : (int)std::max(1u, std::thread::hardware_concurrency());

        for (int64_t n = 0; n < N; ++n)
            if (!std::isfinite(ref_logps[n]))
                return fail(DNO_E_NONFINITE, "ref_logps[" + std::to_string(n) + "] is not finite");
        if (targets)
            for (int64_t i = 0; i < pairs; ++i)
                if (!(targets[i] >= 0.0f && targets[i] <= 1.0f))
                    return fail(DNO_E_TARGET_RANGE, "targets[" + std::to_string(i) + "] = " +
                                                        std::to_string(targets[i]) + " is outside [0,1]");
        // Counted rows, in order; labels are checked before any logit is read.
        std::vector<int64_t> counted;
        counted.reserve(rows);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t lab = label_at(labels_dtype, labels, r);
            if (lab == ignore_index) continue;
            if (lab < 0 || lab >= vocab)
                return fail(DNO_E_LABEL_RANGE, "labels" + position(r, seq_len) + " = " + std::to_string(lab) +
                                                   " is outside [0," + std::to_string(vocab) +
                                                   ") and is not the ignore index " + std::to_string(ignore_index));
            counted.push_back(r);
        }

        // Phase 1: log-sum-exp of every counted row.
        const RowKernels& k = row_kernels();
        const StatsFn stats = k.stats[logits_dtype];
        const size_t esize = dtype_size(logits_dtype);
        const char* base = (const char*)logits;
        std::vector<float> lse(counted.size());
        std::vector<char> finite(counted.size(), 1);
        parallel_for((int64_t)counted.size(), threads, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) {
                RowStats st = stats(base + (size_t)counted[i] * vocab * esize, vocab);
                lse[i] = st.lse;
                finite[i] = st.finite;
            }
        });
        for (size_t i = 0; i < counted.size(); ++i)
            if (!finite[i])
                return fail(DNO_E_NONFINITE, "logits" + position(counted[i], seq_len) + " hold a NaN or infinite value");

        // Phase 2: sequence log-probs, pair losses and per-sequence gradient coefficients.
        std::vector<double> seq_sum(N, 0.0);
        std::vector<int64_t> seq_count(N, 0);
        for (size_t i = 0; i < counted.size(); ++i) {
            const int64_t r = counted[i];
            const int64_t lab = label_at(labels_dtype, labels, r);
            seq_sum[r / seq_len] += (double)(scalar_to_float(logits_dtype, logits, r * vocab + lab) - lse[i]);
            seq_count[r / seq_len] += 1;
        }
        std::vector<double> s(N);
        for (int64_t n = 0; n < N; ++n) {
            s[n] = average ? (seq_count[n] > 0 ? seq_sum[n] / (double)seq_count[n] : 0.0) : seq_sum[n];
            logps[n] = (float)s[n];
        }
        std::vector<float> coef(N, 0.0f);
        double total = 0.0;
        for (int64_t i = 0; i < pairs; ++i) {
            const double q = targets ? (double)targets[i] : 1.0;
            const double rc_ = beta * (s[i] - ref_logps[i]);
            const double rr = beta * (s[i + pairs] - ref_logps[i + pairs]);
            const double zi = rc_ - rr;
            z[i] = (float)zi;
            if (chosen_rewards) chosen_rewards[i] = (float)rc_;
            if (rejected_rewards) rejected_rewards[i] = (float)rr;
            total += q * softplus(-zi) + (1.0 - q) * softplus(zi);
            const double dz = (sigmoid(zi) - q) * (double)grad_scale * beta / (double)pairs;
            const double cc = average ? (seq_count[i] > 0 ? dz / (double)seq_count[i] : 0.0) : dz;
            const double cr = average ? (seq_count[i + pairs] > 0 ? -dz / (double)seq_count[i + pairs] : 0.0) : -dz;
            coef[i] = (float)cc;
            coef[i + pairs] = (float)cr;
        }
        *loss = (float)(total / (double)pairs);

        // Phase 3: the gradient over every row (zero where nothing counts).
        if (grad) {
            std::vector<int64_t> row_to_counted(rows, -1);
            for (size_t i = 0; i < counted.size(); ++i) row_to_counted[counted[i]] = (int64_t)i;
            const GradFn gfn = k.grad[logits_dtype];
            char* gbase = (char*)grad;
            parallel_for(rows, threads, [&](int64_t b, int64_t e) {
                for (int64_t r = b; r < e; ++r) {
                    char* grow = gbase + (size_t)r * vocab * esize;
                    const int64_t i = row_to_counted[r];
                    if (i < 0) { std::memset(grow, 0, (size_t)vocab * esize); continue; }
                    gfn(base + (size_t)r * vocab * esize, grow, vocab, lse[i], coef[r / seq_len],
                        label_at(labels_dtype, labels, r));
                }
            });
        }
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_loss_cpu");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_loss_cpu: ") + e.what());
    }
}
