// dno_small_linear_cpu: y = x W^T (+ b) for a few rows (the decode step of sampling); the
// kernel is in cpu_small_linear.inc, compiled per instruction set.
#include <algorithm>
#include <new>
#include <string>
#include <thread>

#include "cpu_rows.h"
#include "cpu_share_pool.h"
#include "dno_internal.h"

extern "C" int dno_small_linear_cpu(int64_t rows, int64_t in_features, int64_t out_features, const float* x,
                                    int64_t x_row_stride, int weight_dtype, const void* weight, const float* bias,
                                    float* y, int num_threads) {
    using namespace dno;
    clear_error();
    try {
        if (int rc = check_linear_shape(rows, in_features, out_features, x_row_stride, "x_row_stride", num_threads); rc != DNO_OK)
            return rc;
        if (!x) return fail(DNO_E_INVALID_ARGUMENT, "x is NULL");
        if (weight_dtype != DNO_F32 && weight_dtype != DNO_BF16)
            return fail(DNO_E_INVALID_ARGUMENT, "weight_dtype must be DNO_F32 or DNO_BF16, got " + std::to_string(weight_dtype));
        if (!weight) return fail(DNO_E_INVALID_ARGUMENT, "weight is NULL");
        if (!y) return fail(DNO_E_INVALID_ARGUMENT, "y is NULL");
        const RowKernels* k = nullptr;
        int rc = active_row_kernels(&k);
        if (rc != DNO_OK) return rc;
        // Threads split the output columns in blocks of 64, so each reads its own part of the weight
        // and the result does not depend on the thread count. Helpers persist between calls and
        // join only while running (cpu_share_pool.h): a decode step makes ~50 of these calls.
        constexpr int64_t kBlock = 64;
        const int64_t blocks = (out_features + kBlock - 1) / kBlock;
        const SmallLinearFn fn = weight_dtype == DNO_BF16 ? k->small_linear_bf16w : k->small_linear;
        SharePool::instance().run(blocks, share_helpers(num_threads), [&](int64_t b) {
            fn(x, rows, in_features, x_row_stride, weight, out_features, bias, y, b * kBlock,
                            std::min(out_features, (b + 1) * kBlock));
        });
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_small_linear_cpu");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_small_linear_cpu: ") + e.what());
    }
}
