// A stand-in for the four cuBLAS entry points dno_fused_linear_cuda.cu loads at run time, built as
// libcublas.so.13 for the CPU emulation of CUDA (cuda_emu.h). Column-major GEMM with float64
// accumulation: a test oracle, never shipped.
#include <cstdint>
#include <cstring>

#include "cuda_emu.h"

namespace {

float load(const void* p, int type, int64_t i) {
    switch (type) {
        case CUDA_R_32F: return ((const float*)p)[i];
        case CUDA_R_16BF: return __bfloat162float(((const __nv_bfloat16*)p)[i]);
        default: return __half2float(((const __half*)p)[i]);
    }
}

void store(void* p, int type, int64_t i, float v) {
    switch (type) {
        case CUDA_R_32F: ((float*)p)[i] = v; break;
        case CUDA_R_16BF: ((__nv_bfloat16*)p)[i] = __float2bfloat16_rn(v); break;
        default: ((__half*)p)[i] = __float2half_rn(v);
    }
}

bool known(int type) { return type == CUDA_R_32F || type == CUDA_R_16BF || type == CUDA_R_16F; }

int handles = 0;

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int cublasCreate_v2(void** handle) {
    *handle = &handles;
    return 0;
}

__attribute__((visibility("default"))) int cublasSetStream_v2(void*, cudaStream_t) { return 0; }

// C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C, column-major; op 0 = N, 1 = T.
__attribute__((visibility("default"))) int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k,
                                                        const void* alpha, const void* A, int Atype, int lda,
                                                        const void* B, int Btype, int ldb, const void* beta, void* C,
                                                        int Ctype, int ldc, int compute, int /*algo*/) {
    if (handle != &handles) return 1;                                      // NOT_INITIALIZED
    if (m < 0 || n < 0 || k < 0 || (transa & ~1) || (transb & ~1)) return 7;  // INVALID_VALUE
    // The CUBLAS_COMPUTE_32F combinations cuBLAS documents: A and B alike, C alike or float32.
    if (!known(Atype) || Atype != Btype || !known(Ctype) || (Ctype != Atype && Ctype != CUDA_R_32F) || compute != 68)
        return 15;  // NOT_SUPPORTED
    if (lda < (transa ? k : m) || ldb < (transb ? n : k) || ldc < m) return 7;
    const float a = *(const float*)alpha, b = *(const float*)beta;
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
            double acc = 0;
            for (int64_t p = 0; p < k; ++p) {
                const float x = load(A, Atype, transa ? i * lda + p : p * lda + i);
                const float y = load(B, Btype, transb ? p * ldb + j : j * ldb + p);
                acc += (double)x * y;
            }
            const int64_t at = j * ldc + i;
            const float prev = b != 0.f ? load(C, Ctype, at) : 0.f;
            store(C, Ctype, at, (float)(a * acc + b * prev));
        }
    return 0;
}

}  // extern "C"
