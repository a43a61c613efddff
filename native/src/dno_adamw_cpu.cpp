// dno_adamw_cpu and dno_grad_sq_norm_cpu: the optimizer step of training, one pass over each
// float32 parameter (the arithmetic is in cpu_adamw.inc). Work is split in fixed blocks over
// persistent helper threads (cpu_share_pool.h); no block's result depends on which thread ran it.
#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "cpu_rows.h"
#include "cpu_share_pool.h"
#include "dno_internal.h"

namespace {

// 64K floats (256 KB per array): large enough that waking a helper pays, small enough to balance.
constexpr int64_t kBlock = 1 << 16;

bool finite_in(double x, double lo, double hi) { return std::isfinite(x) && x >= lo && x <= hi; }

}  // namespace

extern "C" int dno_grad_sq_norm_cpu(int64_t n, const float* grad, double* sq_norm, int64_t* first_nonfinite_block,
                                    int num_threads) {
    using namespace dno;
    clear_error();
    try {
        if (n < 0) return fail(DNO_E_INVALID_ARGUMENT, "n must be >= 0, got " + std::to_string(n));
        if (n > 0 && !grad) return fail(DNO_E_INVALID_ARGUMENT, "grad is NULL");
        if (!sq_norm) return fail(DNO_E_INVALID_ARGUMENT, "sq_norm is NULL");
        if (num_threads < 0)
            return fail(DNO_E_INVALID_ARGUMENT, "num_threads must be >= 0, got " + std::to_string(num_threads));
        const RowKernels* k = nullptr;
        int rc = active_row_kernels(&k);
        if (rc != DNO_OK) return rc;
        const int64_t blocks = (n + kBlock - 1) / kBlock;
        std::vector<double> part((size_t)blocks, 0.0);
        std::vector<char> ok((size_t)blocks, 1);
        SharePool::instance().run(blocks, share_helpers(num_threads), [&](int64_t b) {
            bool finite = true;
            const int64_t from = b * kBlock;
            part[(size_t)b] = k->grad_sq_norm(grad + from, std::min(n, from + kBlock) - from, &finite);
            ok[(size_t)b] = finite ? 1 : 0;
        });
        double sum = 0.0;
        for (int64_t b = 0; b < blocks; ++b) {  // in block order: the same sum for every thread count
            if (!ok[(size_t)b]) {
                if (first_nonfinite_block) *first_nonfinite_block = b * kBlock;
                return fail(DNO_E_NONFINITE, "grad holds a NaN or an infinity in elements [" + std::to_string(b * kBlock) +
                                                 ", " + std::to_string(std::min(n, (b + 1) * kBlock)) + ")");
            }
            sum += part[(size_t)b];
        }
        *sq_norm = sum;
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_grad_sq_norm_cpu");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_grad_sq_norm_cpu: ") + e.what());
    }
}

extern "C" int dno_adamw_cpu(int64_t n, float* param, float* grad, float* exp_avg, float* exp_avg_sq, double lr,
                             double beta1, double beta2, double eps, double weight_decay, double bias_correction1,
                             double bias_correction2, float grad_scale, int zero_grad, int num_threads) {
    using namespace dno;
    clear_error();
    try {
        if (n < 0) return fail(DNO_E_INVALID_ARGUMENT, "n must be >= 0, got " + std::to_string(n));
        if (n > 0 && (!param || !grad || !exp_avg || !exp_avg_sq))
            return fail(DNO_E_INVALID_ARGUMENT, std::string(!param ? "param" : !grad ? "grad" : !exp_avg ? "exp_avg" : "exp_avg_sq") +
                                                    " is NULL");
        if (!finite_in(lr, 0.0, INFINITY)) return fail(DNO_E_INVALID_ARGUMENT, "lr must be finite and >= 0, got " + std::to_string(lr));
        if (!finite_in(beta1, 0.0, 1.0) || beta1 == 1.0)
            return fail(DNO_E_INVALID_ARGUMENT, "beta1 must be in [0, 1), got " + std::to_string(beta1));
        if (!finite_in(beta2, 0.0, 1.0) || beta2 == 1.0)
            return fail(DNO_E_INVALID_ARGUMENT, "beta2 must be in [0, 1), got " + std::to_string(beta2));
        if (!finite_in(eps, 0.0, INFINITY) || eps == 0.0)
            return fail(DNO_E_INVALID_ARGUMENT, "eps must be finite and > 0, got " + std::to_string(eps));
        if (!finite_in(weight_decay, 0.0, INFINITY))
            return fail(DNO_E_INVALID_ARGUMENT, "weight_decay must be finite and >= 0, got " + std::to_string(weight_decay));
        if (!finite_in(bias_correction1, 0.0, 1.0) || bias_correction1 == 0.0)
            return fail(DNO_E_INVALID_ARGUMENT, "bias_correction1 must be in (0, 1], got " + std::to_string(bias_correction1));
        if (!finite_in(bias_correction2, 0.0, 1.0) || bias_correction2 == 0.0)
            return fail(DNO_E_INVALID_ARGUMENT, "bias_correction2 must be in (0, 1], got " + std::to_string(bias_correction2));
        if (!std::isfinite(grad_scale))
            return fail(DNO_E_INVALID_ARGUMENT, "grad_scale must be finite, got " + std::to_string(grad_scale));
        if (num_threads < 0)
            return fail(DNO_E_INVALID_ARGUMENT, "num_threads must be >= 0, got " + std::to_string(num_threads));
        const RowKernels* k = nullptr;
        int rc = active_row_kernels(&k);
        if (rc != DNO_OK) return rc;
        AdamWScalars s;
        // each constant rounded to float32 once, as libtorch rounds a Scalar for a float tensor
        s.grad_scale = grad_scale;
        s.decay = (float)(1.0 - lr * weight_decay);
        s.decays = weight_decay != 0.0;
        s.beta1 = (float)beta1;
        s.one_minus_beta1 = (float)(1.0 - beta1);
        s.beta2 = (float)beta2;
        s.one_minus_beta2 = (float)(1.0 - beta2);
        s.bias_correction2 = (float)bias_correction2;
        s.eps = (float)eps;
        s.neg_step = (float)(-lr / bias_correction1);
        s.zero_grad = zero_grad != 0;
        const int64_t blocks = (n + kBlock - 1) / kBlock;
        SharePool::instance().run(blocks, share_helpers(num_threads), [&](int64_t b) {
            const int64_t from = b * kBlock, len = std::min(n, from + kBlock) - from;
            k->adamw(param + from, grad + from, exp_avg + from, exp_avg_sq + from, len, s);
        });
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_adamw_cpu");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_adamw_cpu: ") + e.what());
    }
}
