// Device helpers, the CUDA error check and the per-row softmax-statistics kernel, shared by the
// logits-level CUDA loss (dno_loss_cuda.cu) and the fused-linear one (dno_fused_linear_cuda.cu).
// The pair-level math and the label lookup they share with the CPU are in dno_pair_math.h.
#ifndef DNO_CUDA_ROWS_CUH
#define DNO_CUDA_ROWS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "dno_internal.h"
#include "dno_pair_math.h"

namespace dno_cuda_rows {

constexpr int kWarp = 32;

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }

// One 16-byte vector: 4 float32 or 8 bfloat16 / float16 values.
template <typename T> struct Vec {
    static constexpr int kCount = 16 / sizeof(T);
    union { uint4 raw; T v[kCount]; };
};

// Records a CUDA runtime error as the call's failure (DNO_E_OUT_OF_MEMORY or DNO_E_CUDA, the
// message naming `what` and the error).
inline int cuda_fail(cudaError_t err, const char* what) {
    return dno::fail(err == cudaErrorMemoryAllocation ? DNO_E_OUT_OF_MEMORY : DNO_E_CUDA,
                     std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

// Returns from the calling function with cuda_fail when `call` fails.
#define DNO_CUDA_TRY(call, what)                                              \
    do {                                                                      \
        cudaError_t err_ = (call);                                            \
        if (err_ != cudaSuccess) return dno_cuda_rows::cuda_fail(err_, what); \
    } while (0)
// After a launch: the launch's own error (bad configuration), if any.
#define DNO_CUDA_LAUNCHED(what) DNO_CUDA_TRY(cudaGetLastError(), what)

// Merges two (max, sum-exp) pairs; a pair with max = -inf holds nothing.
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
    if (m2 == -INFINITY) return;
    if (m == -INFINITY) { m = m2; s = s2; return; }
    const float M = fmaxf(m, m2);
    s = s * __expf(m - M) + s2 * __expf(m2 - M);
    m = M;
}

// Elements before the first 16-byte boundary of a row, so the body can use vector loads.
template <typename T> __device__ __forceinline__ int64_t head_count(const T* row, int64_t V) {
    const uintptr_t mis = (uintptr_t)row & 15u;
    int64_t h = mis ? (int64_t)((16u - mis) / sizeof(T)) : 0;
    return h < V ? h : V;
}

template <typename T>
__global__ void row_stats_kernel(const T* __restrict__ logits, const void* __restrict__ labels, int labels64,
                                 int64_t ignore_index, int64_t V, float* __restrict__ lse_out,
                                 float* __restrict__ tok_out, int32_t* __restrict__ status) {
    const int64_t row = blockIdx.x;
    const int64_t label = dno::label_at(labels, labels64, row);
    if (label == ignore_index) {
        if (threadIdx.x == 0) { lse_out[row] = 0.f; tok_out[row] = 0.f; }
        return;
    }
    if (!dno::label_in_range(label, V)) {
        if (threadIdx.x == 0) { atomicOr(status, DNO_FLAG_LABEL_RANGE); lse_out[row] = 0.f; tok_out[row] = 0.f; }
        return;
    }
    const T* x = logits + row * V;
    const int64_t head = head_count(x, V);
    const int64_t nvec = (V - head) / Vec<T>::kCount;
    const int64_t tail = head + nvec * Vec<T>::kCount;
    float m = -INFINITY, s = 0.f, bad = 0.f;
    for (int64_t i = threadIdx.x; i < head; i += blockDim.x) {
        const float v = to_f(x[i]);
        bad += v * 0.f;
        merge(m, s, v, 1.f);
    }
    const uint4* body = reinterpret_cast<const uint4*>(x + head);
    for (int64_t i = threadIdx.x; i < nvec; i += blockDim.x) {
        Vec<T> vec;
        vec.raw = __ldg(body + i);
        float vmax = -INFINITY;
#pragma unroll
        for (int j = 0; j < Vec<T>::kCount; ++j) {
            const float v = to_f(vec.v[j]);
            bad += v * 0.f;
            vmax = fmaxf(vmax, v);
        }
        float vs = 0.f;
#pragma unroll
        for (int j = 0; j < Vec<T>::kCount; ++j) vs += __expf(to_f(vec.v[j]) - vmax);
        merge(m, s, vmax, vs);
    }
    for (int64_t i = tail + threadIdx.x; i < V; i += blockDim.x) {
        const float v = to_f(x[i]);
        bad += v * 0.f;
        merge(m, s, v, 1.f);
    }
    // Warp then block reduction, in a fixed order.
    for (int off = kWarp / 2; off > 0; off /= 2) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
        const float s2 = __shfl_xor_sync(0xffffffffu, s, off);
        bad += __shfl_xor_sync(0xffffffffu, bad, off);
        merge(m, s, m2, s2);
    }
    __shared__ float sm[kWarp], ss[kWarp], sb[kWarp];
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    if (lane == 0) { sm[warp] = m; ss[warp] = s; sb[warp] = bad; }
    __syncthreads();
    if (warp == 0) {
        const int warps = blockDim.x / kWarp;
        m = lane < warps ? sm[lane] : -INFINITY;
        s = lane < warps ? ss[lane] : 0.f;
        bad = lane < warps ? sb[lane] : 0.f;
        for (int off = kWarp / 2; off > 0; off /= 2) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m, off);
            const float s2 = __shfl_xor_sync(0xffffffffu, s, off);
            bad += __shfl_xor_sync(0xffffffffu, bad, off);
            merge(m, s, m2, s2);
        }
        if (lane == 0) {
            if (bad != 0.f || !isfinite(m)) {
                atomicOr(status, DNO_FLAG_NONFINITE);
                lse_out[row] = 0.f;
                tok_out[row] = 0.f;
            } else {
                const float lse = m + logf(s);
                lse_out[row] = lse;
                tok_out[row] = to_f(x[label]) - lse;
            }
        }
    }
}

// Sum over the block in a fixed tree (float64 for the sequence log-probs, as on the CPU).
template <int kThreads, typename Acc>
__device__ Acc block_sum(Acc v, Acc* scratch) {
    for (int off = kWarp / 2; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    Acc total = 0;
    if (warp == 0) {
        v = lane < kThreads / kWarp ? scratch[lane] : Acc(0);
        for (int off = kWarp / 2; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
        total = v;
    }
    return total;  // valid in thread 0
}

}  // namespace dno_cuda_rows

#endif
