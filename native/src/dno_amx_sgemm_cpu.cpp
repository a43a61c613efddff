// dno_amx_sgemm: cblas_sgemm's signature and meaning, computed by the AMX bf16x3 products of
// dno_amx_linear (about float32 accuracy; see dno_amx_linear_cpu.cpp).
//
// Why: the fused lm_head + DNO loss kernel takes its GEMM as a CBLAS function pointer, and its
// three products (logits, grad_weight, grad_hidden) over a [V, H] lm_head are most of a training
// step's lm_head time; on a core with AMX they run ~2x faster than a float32 BLAS. Keeping the
// CBLAS contract means the fused kernel does not change and the BLAS stays the default.
//
// C = alpha op(A) op(B) + beta C maps onto dno_amx_linear's y = x W^T with x = op(A) [M, K] and
// W = op(B)^T [N, K]: an operand in the other orientation is transposed into scratch first, W is
// packed per call (its values change between calls), and y goes through scratch when alpha,
// beta or ldc ask for more than a plain store. Column-major calls are the row-major call on the
// transposes (C^T = op(B)^T op(A)^T).
//
// CBLAS returns nothing, so a failure (no AMX, out of memory) is recorded: C is filled with NaN
// (so that nothing downstream mistakes it for a result) and dno_amx_sgemm_take_error reports it.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "cpu_rows.h"
#include "dno_internal.h"

namespace {

constexpr int kRowMajor = 101, kColMajor = 102, kNoTrans = 111, kTrans = 112, kConjTrans = 113;
constexpr int64_t kRowChunk = 1024;   // rows of y per scratch pass when C cannot take y directly
constexpr int64_t kStreamBytes = 2 << 20;   // op(B) packed larger than this is streamed (amx_gemm_streamed)

std::atomic<int> g_threads{0};        // dno_amx_sgemm_set_threads; 0 = every core
std::mutex g_error_mutex;
int g_error_status = 0;               // DNO_OK
std::string g_error_message;

void record(int status, const std::string& message) {
    std::lock_guard<std::mutex> lk(g_error_mutex);
    if (g_error_status != 0) return;   // keep the first
    g_error_status = status;
    g_error_message = message;
}

// Grow-only scratch per thread and role, not zeroed (every element used is written first): a
// GEMM per call would otherwise allocate, zero and page-fault tens of MiB (the lm_head's packing).
float* scratch_floats(int role, size_t n) {
    thread_local std::vector<std::unique_ptr<float[]>> bufs(3);
    thread_local size_t sizes[3] = {0, 0, 0};
    if (sizes[role] < n) {
        bufs[(size_t)role].reset();
        bufs[(size_t)role].reset(new float[n]);
        sizes[role] = n;
    }
    return bufs[(size_t)role].get();
}

// dst [rows, cols] (contiguous) = src^T, where src is [cols, rows] with row stride ld; 16 x 16
// blocks so that reads and writes both stay within a few cache lines.
void transpose(const float* src, int64_t ld, int64_t rows, int64_t cols, float* dst, int threads) {
    constexpr int64_t kB = 16;
    const int64_t rowBlocks = (rows + kB - 1) / kB;
    dno::parallel_for(rowBlocks, threads, [&](int64_t b, int64_t e) {
        for (int64_t rb = b; rb < e; ++rb) {
            const int64_t r0 = rb * kB, r1 = std::min(rows, r0 + kB);
            for (int64_t c0 = 0; c0 < cols; c0 += kB) {
                const int64_t c1 = std::min(cols, c0 + kB);
                for (int64_t r = r0; r < r1; ++r) {
                    float* d = dst + r * cols;
                    for (int64_t c = c0; c < c1; ++c) d[c] = src[c * ld + r];
                }
            }
        }
    });
}

bool is_trans(int t) { return t == kTrans || t == kConjTrans; }

int row_major(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int threads) {
    using namespace dno;
    if (M == 0 || N == 0) return DNO_OK;
    if (K == 0 || alpha == 0.0f) {   // C = beta C (beta 0 stores zeros, as BLAS does)
        for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.0f ? 0.0f : beta * C[m * ldc + n];
        return DNO_OK;
    }
    const float* x = A;
    int64_t xs = lda;
    if (is_trans(ta)) {   // A is [K, M]: x = A^T [M, K]
        float* xt = scratch_floats(0, (size_t)(M * K));
        transpose(A, lda, M, K, xt, threads);
        x = xt;
        xs = K;
    }
    // W = op(B)^T [N, K]: B itself when transposed, else packed straight from B [K, N]; one that
    // would not stay in cache packed whole is packed piece by piece as the product goes
    const int64_t bytes = dno_amx_packed_weight_bytes(N, K);
    if (bytes > kStreamBytes) return amx_gemm_streamed(M, N, K, x, xs, B, ldb, is_trans(tb), alpha, beta, C, ldc, threads);
    void* packed = scratch_floats(1, (size_t)((bytes + 3) / 4));
    const int rc = is_trans(tb) ? dno_amx_pack_weight(N, K, B, ldb, packed, threads)
                                : dno_amx_pack_weight_transposed(N, K, B, ldb, packed, threads);
    if (rc != DNO_OK) return rc;
    if (alpha == 1.0f && beta == 0.0f && ldc == N) return dno_amx_linear(M, K, N, x, xs, packed, nullptr, C, threads);
    float* y = scratch_floats(2, (size_t)(std::min(M, kRowChunk) * N));
    for (int64_t m0 = 0; m0 < M; m0 += kRowChunk) {
        const int64_t rows = std::min(kRowChunk, M - m0);
        if (int rc2 = dno_amx_linear(rows, K, N, x + m0 * xs, xs, packed, nullptr, y, threads); rc2 != DNO_OK)
            return rc2;
        parallel_for(rows, threads, [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                float* c = C + (m0 + r) * ldc;
                const float* s = y + r * N;
                if (beta == 0.0f)
                    for (int64_t n = 0; n < N; ++n) c[n] = alpha * s[n];
                else
                    for (int64_t n = 0; n < N; ++n) c[n] = alpha * s[n] + beta * c[n];
            }
        });
    }
    return DNO_OK;
}

void fill_nan(int order, int64_t M, int64_t N, float* C, int64_t ldc) {
    if (!C) return;
    const int64_t outer = order == kRowMajor ? M : N, inner = order == kRowMajor ? N : M;
    for (int64_t i = 0; i < outer; ++i)
        for (int64_t j = 0; j < inner; ++j) C[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
}

}  // namespace

extern "C" void dno_amx_sgemm(int order, int trans_a, int trans_b, int M, int N, int K, float alpha, const float* A,
                              int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    using namespace dno;
    // 0 = every core, for the AMX products and for this file's own loops (parallel_for counts workers)
    const int set = g_threads.load(std::memory_order_relaxed);
    const int threads = set > 0 ? set : (int)std::max(1u, std::thread::hardware_concurrency());
    int rc = DNO_OK;
    std::string message;
    try {
        const bool ok = (order == kRowMajor || order == kColMajor) &&
                        (trans_a == kNoTrans || is_trans(trans_a)) && (trans_b == kNoTrans || is_trans(trans_b)) &&
                        M >= 0 && N >= 0 && K >= 0 && C;
        if (!ok) {
            rc = DNO_E_INVALID_ARGUMENT;
            message = "dno_amx_sgemm: invalid order, transpose, size or NULL C";
        } else if (order == kRowMajor) {
            rc = row_major(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
        } else {   // column-major C = op(A) op(B) is row-major C^T = op(B)^T op(A)^T
            rc = row_major(trans_b, trans_a, N, M, K, alpha, B, ldb, A, lda, beta, C, ldc, threads);
        }
        if (rc != DNO_OK) message = std::string("dno_amx_sgemm: ") + dno_last_error();
    } catch (const std::bad_alloc&) {
        rc = DNO_E_OUT_OF_MEMORY;
        message = "dno_amx_sgemm: out of host memory for its scratch";
    } catch (const std::exception& e) {
        rc = DNO_E_INTERNAL;
        message = std::string("dno_amx_sgemm: ") + e.what();
    }
    if (rc != DNO_OK) {
        record(rc, message);
        fill_nan(order, M, N, C, ldc);
    }
}

extern "C" int dno_amx_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                            int num_threads) {
    using namespace dno;
    clear_error();
    if (!(trans_a == kNoTrans || is_trans(trans_a)) || !(trans_b == kNoTrans || is_trans(trans_b)))
        return fail(DNO_E_INVALID_ARGUMENT, "dno_amx_gemm: trans_a and trans_b must be 111 (no transpose) or 112");
    if (M < 0 || N < 0 || K < 0) return fail(DNO_E_INVALID_ARGUMENT, "dno_amx_gemm: M, N and K must be >= 0");
    if (M > 0 && N > 0 && !C) return fail(DNO_E_INVALID_ARGUMENT, "dno_amx_gemm: C is NULL");
    if (M > 0 && N > 0 && K > 0 && alpha != 0.0f && (!A || !B))
        return fail(DNO_E_INVALID_ARGUMENT, "dno_amx_gemm: A or B is NULL");
    const int64_t need_a = is_trans(trans_a) ? M : K, need_b = is_trans(trans_b) ? K : N;
    if (lda < std::max<int64_t>(1, need_a) || ldb < std::max<int64_t>(1, need_b) || ldc < std::max<int64_t>(1, N))
        return fail(DNO_E_INVALID_ARGUMENT, "dno_amx_gemm: a leading dimension is less than its matrix's row length");
    if (num_threads < 0) return fail(DNO_E_INVALID_ARGUMENT, "dno_amx_gemm: num_threads must be >= 0");
    const int threads = num_threads > 0 ? num_threads : (int)std::max(1u, std::thread::hardware_concurrency());
    try {
        return row_major(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "dno_amx_gemm: out of host memory for its scratch");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_amx_gemm: ") + e.what());
    }
}

extern "C" void dno_amx_sgemm_set_threads(int num_threads) {
    g_threads.store(num_threads > 0 ? num_threads : 0, std::memory_order_relaxed);
}

extern "C" int dno_amx_sgemm_take_error(void) {
    using namespace dno;
    clear_error();
    std::lock_guard<std::mutex> lk(g_error_mutex);
    const int status = g_error_status;
    if (status != DNO_OK) fail(status, g_error_message);
    g_error_status = DNO_OK;
    g_error_message.clear();
    return status;
}
