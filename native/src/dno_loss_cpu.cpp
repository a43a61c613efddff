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
        const RowKernels* k = nullptr;
        if ((rc = active_row_kernels(&k)) != DNO_OK) return rc;
        const int64_t N = 2 * pairs, rows = N * seq_len;
        const bool labels64 = labels_dtype == DNO_I64;
        const int threads = num_threads > 0 ? num_threads : (int)std::max(1u, std::thread::hardware_concurrency());

        if ((rc = check_ref_and_targets(pairs, ref_logps, targets)) != DNO_OK) return rc;
        // Counted rows, in order; labels are checked before any logit is read.
        std::vector<int64_t> counted;
        counted.reserve(rows);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t lab = label_at(labels, labels64, r);
            if (lab == ignore_index) continue;
            if (!label_in_range(lab, vocab)) return fail_label_range(r, seq_len, lab, vocab, ignore_index);
            counted.push_back(r);
        }

        // Phase 1: log-sum-exp of every counted row.
        const StatsFn stats = k->stats[logits_dtype];
        const size_t esize = (size_t)float_dtype_bytes(logits_dtype);
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
                return fail(DNO_E_NONFINITE, "logits" + position_name(counted[i], seq_len) + " hold a NaN or infinite value");

        // Phase 2: sequence log-probs, pair losses and per-sequence gradient coefficients.
        std::vector<double> seq_sum(N, 0.0);
        std::vector<int64_t> seq_count(N, 0);
        for (size_t i = 0; i < counted.size(); ++i) {
            const int64_t r = counted[i];
            const int64_t lab = label_at(labels, labels64, r);
            seq_sum[r / seq_len] += (double)(load_as_float(logits_dtype, logits, r * vocab + lab) - lse[i]);
            seq_count[r / seq_len] += 1;
        }
        std::vector<float> coef(N, 0.0f);
        std::vector<double> pair_loss(pairs);
        host_pair_math(pairs, 0, pairs, seq_sum.data(), seq_count.data(), ref_logps, targets, beta, average, grad_scale,
                       logps, z, chosen_rewards, rejected_rewards, pair_loss.data(), coef.data());
        double total = 0.0;
        for (int64_t i = 0; i < pairs; ++i) total += pair_loss[i];
        *loss = (float)(total / (double)pairs);

        // Phase 3: the gradient over every row (zero where nothing counts).
        if (grad) {
            std::vector<int64_t> row_to_counted(rows, -1);
            for (size_t i = 0; i < counted.size(); ++i) row_to_counted[counted[i]] = (int64_t)i;
            const GradFn gfn = k->grad[logits_dtype];
            char* gbase = (char*)grad;
            parallel_for(rows, threads, [&](int64_t b, int64_t e) {
                for (int64_t r = b; r < e; ++r) {
                    char* grow = gbase + (size_t)r * vocab * esize;
                    const int64_t i = row_to_counted[r];
                    if (i < 0) { std::memset(grow, 0, (size_t)vocab * esize); continue; }
                    gfn(base + (size_t)r * vocab * esize, grow, vocab, lse[i], coef[r / seq_len],
                        label_at(labels, labels64, r));
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
