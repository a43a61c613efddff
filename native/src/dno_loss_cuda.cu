// CUDA implementation of the fused DNO loss (see dno_loss.h for the contract).
//
// Four launches on the caller's stream, no host synchronisation:
//   row_stats_kernel  one block per row: online max / sum-exp over 16-byte vector loads,
//                     writes the row's log-sum-exp and the label's log-prob (ignored rows skip);
//   sequence_kernel   one block per sequence: fixed-order sum of its token log-probs;
//   pair_kernel       one block: z, rewards, the mean loss, per-sequence gradient coefficients;
//   grad_kernel       one block per row: grad = coef * (onehot(label) - softmax), or zeros;
//                     writes nothing when an error flag is set, so in-place logits survive.
// Reductions use a fixed thread-to-element assignment and a fixed tree, and there are no
// floating-point atomics, so results are bitwise reproducible. Errors found on the device are
// OR-ed into the caller's status word (integer atomicOr is order-independent).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "dno_internal.h"

namespace {

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

__device__ __forceinline__ int64_t load_label(const void* labels, int is64, int64_t i) {
    return is64 ? ((const int64_t*)labels)[i] : (int64_t)((const int32_t*)labels)[i];
}

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
    const int64_t label = load_label(labels, labels64, row);
    if (label == ignore_index) {
        if (threadIdx.x == 0) { lse_out[row] = 0.f; tok_out[row] = 0.f; }
        return;
    }
    if (label < 0 || label >= V) {
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

template <int kThreads>
__device__ float block_sum(float v, float* scratch) {
    for (int off = kWarp / 2; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float total = 0.f;
    if (warp == 0) {
        v = lane < kThreads / kWarp ? scratch[lane] : 0.f;
        for (int off = kWarp / 2; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
        total = v;
    }
    return total;  // valid in thread 0
}

constexpr int kSeqThreads = 256;

__global__ void sequence_kernel(const float* __restrict__ tok, const void* __restrict__ labels, int labels64,
                                int64_t ignore_index, int64_t T, int average, float* __restrict__ logps,
                                float* __restrict__ counts) {
    __shared__ float scratch[kWarp];
    const int64_t n = blockIdx.x;
    float sum = 0.f, cnt = 0.f;
    for (int64_t t = threadIdx.x; t < T; t += kSeqThreads) {
        sum += tok[n * T + t];
        cnt += load_label(labels, labels64, n * T + t) != ignore_index ? 1.f : 0.f;
    }
    sum = block_sum<kSeqThreads>(sum, scratch);
    __syncthreads();
    cnt = block_sum<kSeqThreads>(cnt, scratch);
    if (threadIdx.x == 0) {
        logps[n] = average ? (cnt > 0.f ? sum / cnt : 0.f) : sum;
        counts[n] = cnt;
    }
}

constexpr int kPairThreads = 256;

__device__ __forceinline__ double softplus_d(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
__device__ __forceinline__ double sigmoid_d(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    const double e = exp(x);
    return e / (1.0 + e);
}

__global__ void pair_kernel(int64_t P, const float* __restrict__ logps, const float* __restrict__ counts,
                            const float* __restrict__ ref, const float* __restrict__ targets, float beta,
                            int average, float grad_scale, float* __restrict__ loss, float* __restrict__ z,
                            float* __restrict__ chosen_rewards, float* __restrict__ rejected_rewards,
                            float* __restrict__ coef, int32_t* __restrict__ status) {
    __shared__ double scratch[kPairThreads];
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < P; i += kPairThreads) {
        const double rc = (double)ref[i], rr = (double)ref[i + P];
        double q = targets ? (double)targets[i] : 1.0;
        if (!isfinite(rc) || !isfinite(rr)) atomicOr(status, DNO_FLAG_NONFINITE);
        if (!(q >= 0.0 && q <= 1.0)) { atomicOr(status, DNO_FLAG_TARGET_RANGE); q = 1.0; }
        const double cr = beta * ((double)logps[i] - rc);
        const double rj = beta * ((double)logps[i + P] - rr);
        const double zi = cr - rj;
        z[i] = (float)zi;
        if (chosen_rewards) chosen_rewards[i] = (float)cr;
        if (rejected_rewards) rejected_rewards[i] = (float)rj;
        acc += q * softplus_d(-zi) + (1.0 - q) * softplus_d(zi);
        const double dz = (sigmoid_d(zi) - q) * (double)grad_scale * beta / (double)P;
        const float nc = counts[i], nr = counts[i + P];
        coef[i] = (float)(average ? (nc > 0.f ? dz / nc : 0.0) : dz);
        coef[i + P] = (float)(average ? (nr > 0.f ? -dz / nr : 0.0) : -dz);
    }
    scratch[threadIdx.x] = acc;
    __syncthreads();
    for (int stride = kPairThreads / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) scratch[threadIdx.x] += scratch[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) *loss = (float)(scratch[0] / (double)P);
}

template <typename T>
__global__ void grad_kernel(const T* logits, T* grad, const void* __restrict__ labels, int labels64,
                            int64_t ignore_index, int64_t T_, int64_t V, const float* __restrict__ lse_in,
                            const float* __restrict__ coef_in, const int32_t* __restrict__ status) {
    if (*status != 0) return;
    const int64_t row = blockIdx.x;
    const int64_t label = load_label(labels, labels64, row);
    T* g = grad + row * V;
    const T* x = logits + row * V;
    const int64_t head = head_count(g, V);
    const bool aligned = head_count(x, V) == head;  // x and g share their alignment (in place, or both fresh)
    const int64_t nvec = aligned ? (V - head) / Vec<T>::kCount : 0;
    const int64_t tail = aligned ? head + nvec * Vec<T>::kCount : 0;
    if (label == ignore_index) {
        for (int64_t i = threadIdx.x; i < head; i += blockDim.x) g[i] = from_f<T>(0.f);
        uint4* gb = reinterpret_cast<uint4*>(g + head);
        for (int64_t i = threadIdx.x; i < nvec; i += blockDim.x) gb[i] = make_uint4(0, 0, 0, 0);
        for (int64_t i = tail + threadIdx.x; i < V; i += blockDim.x) g[i] = from_f<T>(0.f);
        return;
    }
    const float lse = lse_in[row];
    const float c = coef_in[row / T_];
    // Every element is read before it is written by the same thread, so grad may alias logits.
    for (int64_t i = threadIdx.x; i < (aligned ? head : 0); i += blockDim.x) {
        const float p = __expf(to_f(x[i]) - lse);
        g[i] = from_f<T>(i == label ? c * (1.f - p) : -c * p);
    }
    const uint4* xb = reinterpret_cast<const uint4*>(x + head);
    uint4* gb = reinterpret_cast<uint4*>(g + head);
    for (int64_t i = threadIdx.x; i < nvec; i += blockDim.x) {
        Vec<T> in, out;
        in.raw = xb[i];
        const int64_t first = head + i * Vec<T>::kCount;
#pragma unroll
        for (int j = 0; j < Vec<T>::kCount; ++j) {
            const float p = __expf(to_f(in.v[j]) - lse);
            out.v[j] = from_f<T>(first + j == label ? c * (1.f - p) : -c * p);
        }
        gb[i] = out.raw;
    }
    for (int64_t i = tail + threadIdx.x; i < V; i += blockDim.x) {
        const float p = __expf(to_f(x[i]) - lse);
        g[i] = from_f<T>(i == label ? c * (1.f - p) : -c * p);
    }
}

int cuda_fail(cudaError_t err, const char* what) {
    return dno::fail(err == cudaErrorMemoryAllocation ? DNO_E_OUT_OF_MEMORY : DNO_E_CUDA,
                     std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

#define DNO_CUDA_TRY(call, what)                              \
    do {                                                      \
        cudaError_t err_ = (call);                            \
        if (err_ != cudaSuccess) return cuda_fail(err_, what); \
    } while (0)

int64_t align256(int64_t bytes) { return (bytes + 255) / 256 * 256; }

template <typename T>
int launch(int64_t P, int64_t T_, int64_t V, const void* logits, const void* labels, int labels64,
           int64_t ignore_index, const float* ref, const float* targets, float beta, int average,
           float grad_scale, float* loss, float* logps, float* z, float* chosen, float* rejected, void* grad,
           int32_t* status, char* ws, cudaStream_t stream) {
    const int64_t N = 2 * P, rows = N * T_;
    float* lse = (float*)ws;
    float* tok = (float*)(ws + align256(rows * 4));
    float* counts = (float*)(ws + 2 * align256(rows * 4));
    float* coef = (float*)(ws + 2 * align256(rows * 4) + align256(N * 4));
    const int threads = V >= 16384 ? 512 : 256;
    row_stats_kernel<T><<<(unsigned)rows, threads, 0, stream>>>((const T*)logits, labels, labels64, ignore_index,
                                                                 V, lse, tok, status);
    DNO_CUDA_TRY(cudaGetLastError(), "row_stats_kernel launch");
    sequence_kernel<<<(unsigned)N, kSeqThreads, 0, stream>>>(tok, labels, labels64, ignore_index, T_, average,
                                                             logps, counts);
    DNO_CUDA_TRY(cudaGetLastError(), "sequence_kernel launch");
    pair_kernel<<<1, kPairThreads, 0, stream>>>(P, logps, counts, ref, targets, beta, average, grad_scale, loss, z,
                                                chosen, rejected, coef, status);
    DNO_CUDA_TRY(cudaGetLastError(), "pair_kernel launch");
    if (grad) {
        grad_kernel<T><<<(unsigned)rows, threads, 0, stream>>>((const T*)logits, (T*)grad, labels, labels64,
                                                               ignore_index, T_, V, lse, coef, status);
        DNO_CUDA_TRY(cudaGetLastError(), "grad_kernel launch");
    }
    return DNO_OK;
}

}  // namespace

extern "C" int64_t dno_loss_cuda_workspace_size(int64_t sequences, int64_t seq_len) {
    return 2 * align256(sequences * seq_len * 4) + 2 * align256(sequences * 4);
}

extern "C" int dno_loss_cuda(int64_t pairs, int64_t seq_len, int64_t vocab, int logits_dtype, const void* logits,
                             int labels_dtype, const void* labels, int64_t ignore_index, const float* ref_logps,
                             const float* targets, float beta, int average, float grad_scale, float* loss,
                             float* logps, float* z, float* chosen_rewards, float* rejected_rewards, void* grad,
                             int32_t* status, void* workspace, void* stream_ptr) {
    dno::clear_error();
    int rc = dno::check_common(pairs, seq_len, vocab, logits_dtype, logits, labels_dtype, labels, ref_logps, beta,
                               grad_scale, loss, logps, z);
    if (rc != DNO_OK) return rc;
    if (!status) return dno::fail(DNO_E_INVALID_ARGUMENT, "status is NULL");
    if (2 * pairs * seq_len > 2147483647LL)
        return dno::fail(DNO_E_INVALID_ARGUMENT, "2*pairs*seq_len must be below 2^31 rows on the GPU");
    cudaStream_t stream = (cudaStream_t)stream_ptr;
    const int64_t ws_bytes = dno_loss_cuda_workspace_size(2 * pairs, seq_len);
    char* ws = (char*)workspace;
    if (!ws) DNO_CUDA_TRY(cudaMallocAsync((void**)&ws, ws_bytes, stream), "cudaMallocAsync(workspace)");
    const int l64 = labels_dtype == DNO_I64;
    switch (logits_dtype) {
        case DNO_F32:
            rc = launch<float>(pairs, seq_len, vocab, logits, labels, l64, ignore_index, ref_logps, targets, beta,
                               average, grad_scale, loss, logps, z, chosen_rewards, rejected_rewards, grad, status,
                               ws, stream);
            break;
        case DNO_BF16:
            rc = launch<__nv_bfloat16>(pairs, seq_len, vocab, logits, labels, l64, ignore_index, ref_logps, targets,
                                       beta, average, grad_scale, loss, logps, z, chosen_rewards, rejected_rewards,
                                       grad, status, ws, stream);
            break;
        default:
            rc = launch<__half>(pairs, seq_len, vocab, logits, labels, l64, ignore_index, ref_logps, targets, beta,
                                average, grad_scale, loss, logps, z, chosen_rewards, rejected_rewards, grad, status,
                                ws, stream);
    }
    if (!workspace) {
        cudaError_t err = cudaFreeAsync(ws, stream);
        if (rc == DNO_OK && err != cudaSuccess) return cuda_fail(err, "cudaFreeAsync(workspace)");
    }
    return rc;
}

extern "C" int dno_cuda_device_count(int* count) {
    dno::clear_error();
    int c = 0;
    cudaError_t err = cudaGetDeviceCount(&c);
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
        cudaGetLastError();  // clear the sticky-free error so later calls start clean
        *count = 0;
        return DNO_OK;
    }
    DNO_CUDA_TRY(err, "cudaGetDeviceCount");
    *count = c;
    return DNO_OK;
}

extern "C" int dno_cuda_malloc(void** ptr, int64_t bytes) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaMalloc(ptr, (size_t)bytes), "cudaMalloc");
    return DNO_OK;
}

extern "C" int dno_cuda_free(void* ptr) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaFree(ptr), "cudaFree");
    return DNO_OK;
}

extern "C" int dno_cuda_memcpy_to_device(void* dst, const void* src, int64_t bytes) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaMemcpy(dst, src, (size_t)bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
    return DNO_OK;
}

extern "C" int dno_cuda_memcpy_to_host(void* dst, const void* src, int64_t bytes) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaMemcpy(dst, src, (size_t)bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
    return DNO_OK;
}

extern "C" int dno_cuda_memset(void* ptr, int value, int64_t bytes, void* stream) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaMemsetAsync(ptr, value, (size_t)bytes, (cudaStream_t)stream), "cudaMemsetAsync");
    return DNO_OK;
}

extern "C" int dno_cuda_stream_synchronize(void* stream) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaStreamSynchronize((cudaStream_t)stream), "cudaStreamSynchronize");
    return DNO_OK;
}

extern "C" int dno_cuda_read_status(const int32_t* status, void* stream, int32_t* status_host) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaMemcpyAsync(status_host, status, 4, cudaMemcpyDeviceToHost, (cudaStream_t)stream),
                 "cudaMemcpyAsync(status)");
    DNO_CUDA_TRY(cudaStreamSynchronize((cudaStream_t)stream), "cudaStreamSynchronize");
    return DNO_OK;
}
