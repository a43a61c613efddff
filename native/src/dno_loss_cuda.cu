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

#include "cuda_rows.cuh"
#include "cuda_workspace.h"
#include "dno_internal.h"
#include "dno_pair_math.h"

namespace {

using namespace dno_cuda_rows;

constexpr int kSeqThreads = 256;

// Sequence sums in float64 (like the CPU path): logps [N] for the caller, seq [N] float64 for pair_kernel.
__global__ void sequence_kernel(const float* __restrict__ tok, const void* __restrict__ labels, int labels64,
                                int64_t ignore_index, int64_t T, int average, float* __restrict__ logps,
                                double* __restrict__ seq, float* __restrict__ counts) {
    __shared__ double scratch[kWarp];
    const int64_t n = blockIdx.x;
    double sum = 0.0, cnt = 0.0;
    for (int64_t t = threadIdx.x; t < T; t += kSeqThreads) {
        sum += (double)tok[n * T + t];
        cnt += dno::label_at(labels, labels64, n * T + t) != ignore_index ? 1.0 : 0.0;
    }
    sum = block_sum<kSeqThreads>(sum, scratch);
    __syncthreads();
    cnt = block_sum<kSeqThreads>(cnt, scratch);
    if (threadIdx.x == 0) {
        const double s = dno::sequence_logp(sum, cnt, average);
        seq[n] = s;
        logps[n] = (float)s;
        counts[n] = (float)cnt;
    }
}

constexpr int kPairThreads = 256;

__global__ void pair_kernel(int64_t P, const double* __restrict__ seq, const float* __restrict__ counts,
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
        const dno::PairTerms t = dno::pair_terms(seq[i], seq[i + P], rc, rr, q, beta, grad_scale, P, average,
                                                 counts[i], counts[i + P]);
        z[i] = (float)t.z;
        if (chosen_rewards) chosen_rewards[i] = (float)t.chosen_reward;
        if (rejected_rewards) rejected_rewards[i] = (float)t.rejected_reward;
        acc += t.loss;
        coef[i] = (float)t.coef_chosen;
        coef[i + P] = (float)t.coef_rejected;
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
    const int64_t label = dno::label_at(labels, labels64, row);
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

template <typename T>
int launch(int64_t P, int64_t T_, int64_t V, const void* logits, const void* labels, int labels64,
           int64_t ignore_index, const float* ref, const float* targets, float beta, int average,
           float grad_scale, float* loss, float* logps, float* z, float* chosen, float* rejected, void* grad,
           int32_t* status, char* ws, cudaStream_t stream) {
    const int64_t N = 2 * P, rows = N * T_;
    const dno::LossWorkspace layout(N, T_);
    float* lse = (float*)(ws + layout.lse);
    float* tok = (float*)(ws + layout.tok);
    float* counts = (float*)(ws + layout.counts);
    float* coef = (float*)(ws + layout.coef);
    double* seq = (double*)(ws + layout.seq);
    const int threads = V >= 16384 ? 512 : 256;
    row_stats_kernel<T><<<(unsigned)rows, threads, 0, stream>>>((const T*)logits, labels, labels64, ignore_index,
                                                                 V, lse, tok, status);
    DNO_CUDA_LAUNCHED("row_stats_kernel launch");
    sequence_kernel<<<(unsigned)N, kSeqThreads, 0, stream>>>(tok, labels, labels64, ignore_index, T_, average,
                                                             logps, seq, counts);
    DNO_CUDA_LAUNCHED("sequence_kernel launch");
    pair_kernel<<<1, kPairThreads, 0, stream>>>(P, seq, counts, ref, targets, beta, average, grad_scale, loss, z,
                                                chosen, rejected, coef, status);
    DNO_CUDA_LAUNCHED("pair_kernel launch");
    if (grad) {
        grad_kernel<T><<<(unsigned)rows, threads, 0, stream>>>((const T*)logits, (T*)grad, labels, labels64,
                                                               ignore_index, T_, V, lse, coef, status);
        DNO_CUDA_LAUNCHED("grad_kernel launch");
    }
    return DNO_OK;
}

}  // namespace

extern "C" int64_t dno_loss_cuda_workspace_size(int64_t sequences, int64_t seq_len) {
    return dno::LossWorkspace(sequences, seq_len).bytes;
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

extern "C" int dno_cuda_async_pool_peak(int64_t* bytes, int reset) {
    dno::clear_error();
    int device = 0;
    DNO_CUDA_TRY(cudaGetDevice(&device), "cudaGetDevice");
    cudaMemPool_t pool;
    DNO_CUDA_TRY(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
    uint64_t high = 0;  // cuuint64_t
    DNO_CUDA_TRY(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &high), "cudaMemPoolGetAttribute");
    *bytes = (int64_t)high;
    if (reset) {
        uint64_t zero = 0;  // resets the high-water mark to the memory in use now
        DNO_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero), "cudaMemPoolSetAttribute");
    }
    return DNO_OK;
}

extern "C" int dno_cuda_read_status(const int32_t* status, void* stream, int32_t* status_host) {
    dno::clear_error();
    DNO_CUDA_TRY(cudaMemcpyAsync(status_host, status, 4, cudaMemcpyDeviceToHost, (cudaStream_t)stream),
                 "cudaMemcpyAsync(status)");
    DNO_CUDA_TRY(cudaStreamSynchronize((cudaStream_t)stream), "cudaStreamSynchronize");
    return DNO_OK;
}
