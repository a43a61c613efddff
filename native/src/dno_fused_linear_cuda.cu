// CUDA implementation of the fused-linear DNO loss (see dno_loss.h for the contract and
// fused_plan.h for the chunking). Not yet run on a GPU: it compiles for sm_80/sm_90 on the build
// machines (no GPU, no cuBLAS), and its kernels pass the GPU tests on the CPU emulation of CUDA
// (native/test/cuda_emu) with a cuBLAS stand-in.
//
// cuBLAS is loaded at run time (dlopen libcublas.so.13: see cublas() for where) with the three entry
// points it needs declared here, since the build machines have no cuBLAS headers. Per chunk of R
// counted rows, all on the caller's stream:
//   gather_kernel     Hc [R,H] (dtype of hidden) <- counted hidden rows
//   bias_fill_kernel  Lc [R,V] float32 <- bias (when there is one)
//   GemmEx 1          Lc (+)= Hc @ W^T                       (16-bit or fp32 operands, fp32 accumulate)
//   row_stats_kernel  lse and token log-prob per row          (shared with dno_loss_cuda.cu)
//   seq / pair        sequence sums (fixed-order tree) -> z, per-pair loss, per-sequence coefficient
//   grad_rows_kernel  G = coef * (onehot - softmax) written over Lc's own rows (16-bit G in the
//                     first half of each float32 row: ldg = 2V; tiles are read before written)
//   bias_sum_kernel   grad_bias accumulator += column sums of G (fixed order, no atomics)
//   GemmEx 2          grad_weight (+)= G^T @ Hc
//   GemmEx 3          Hc <- G @ W, then scatter_kernel into grad_hidden
// The one host synchronisation reads the labels to plan the chunks.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <library_types.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cuda_rows.cuh"
#include "cuda_workspace.h"
#include "dno_internal.h"
#include "dno_pair_math.h"
#include "fused_plan.h"

namespace {

using namespace dno_cuda_rows;

// --- cuBLAS, loaded at run time -------------------------------------------------------------
using cublasHandle_t = void*;
constexpr int kOpN = 0, kOpT = 1;          // cublasOperation_t
constexpr int kCompute32F = 68;            // CUBLAS_COMPUTE_32F
constexpr int kGemmDefault = -1;           // CUBLAS_GEMM_DEFAULT
using CreateFn = int (*)(cublasHandle_t*);
using SetStreamFn = int (*)(cublasHandle_t, cudaStream_t);
using GemmExFn = int (*)(cublasHandle_t, int, int, int, int, int, const void*, const void*, cudaDataType, int,
                         const void*, cudaDataType, int, const void*, void*, cudaDataType, int, int, int);

struct Cublas {
    CreateFn create = nullptr;
    SetStreamFn set_stream = nullptr;
    GemmExFn gemm = nullptr;
    std::string error;
};

const Cublas& cublas() {
    static const Cublas lib = [] {
        Cublas c;
        // The loader's search path first (LD_LIBRARY_PATH, ldconfig), then where CUDA toolkits
        // usually keep it: $CUDA_HOME/lib64, $CUDA_PATH/lib64, /usr/local/cuda/lib64.
        std::vector<std::string> tried = {"libcublas.so.13"};
        for (const char* env : {"CUDA_HOME", "CUDA_PATH"})
            if (const char* dir = getenv(env)) tried.push_back(std::string(dir) + "/lib64/libcublas.so.13");
        tried.push_back("/usr/local/cuda/lib64/libcublas.so.13");
        tried.push_back("libcublas.so");
        void* h = nullptr;
        std::string first_error;
        for (const std::string& name : tried) {
            if ((h = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL))) break;
            const char* e = dlerror();
            if (first_error.empty() && e) first_error = e;
        }
        if (!h) {
            std::string list;
            for (const std::string& name : tried) list += (list.empty() ? "" : ", ") + name;
            c.error = "cannot load cuBLAS 13 (tried " + list + "; first error: " + first_error +
                      "); put the CUDA toolkit's lib64 on LD_LIBRARY_PATH or set CUDA_HOME";
            return c;
        }
        c.create = (CreateFn)dlsym(h, "cublasCreate_v2");
        c.set_stream = (SetStreamFn)dlsym(h, "cublasSetStream_v2");
        c.gemm = (GemmExFn)dlsym(h, "cublasGemmEx");
        if (!c.create || !c.set_stream || !c.gemm) c.error = "libcublas lacks cublasCreate_v2/cublasSetStream_v2/cublasGemmEx";
        return c;
    }();
    return lib;
}

// One handle per host thread and device, created on first use and kept (cuBLAS handles are
// expensive to create and are meant to be reused).
int cublas_handle(cublasHandle_t* out) {
    const Cublas& c = cublas();
    if (!c.error.empty()) return dno::fail(DNO_E_CUDA, c.error);
    int device = 0;
    cudaGetDevice(&device);
    thread_local std::vector<cublasHandle_t> handles;
    if ((int)handles.size() <= device) handles.resize(device + 1, nullptr);
    if (!handles[device]) {
        const int rc = c.create(&handles[device]);
        if (rc != 0) return dno::fail(DNO_E_CUDA, "cublasCreate failed with status " + std::to_string(rc));
    }
    *out = handles[device];
    return DNO_OK;
}

cudaDataType cuda_type(int dtype) {
    return dtype == DNO_F32 ? CUDA_R_32F : dtype == DNO_BF16 ? CUDA_R_16BF : CUDA_R_16F;
}

// --- kernels ------------------------------------------------------------------------------
constexpr int kThreads = 256;

template <typename T>
__global__ void gather_kernel(const T* __restrict__ hidden, const int64_t* __restrict__ rows, T* __restrict__ hc,
                              int64_t H) {
    const T* src = hidden + rows[blockIdx.x] * H;
    T* dst = hc + (int64_t)blockIdx.x * H;
    for (int64_t i = threadIdx.x; i < H; i += blockDim.x) dst[i] = src[i];
}

template <typename T>
__global__ void bias_fill_kernel(const T* __restrict__ bias, float* __restrict__ lc, int64_t V) {
    float* dst = lc + (int64_t)blockIdx.x * V;
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) dst[i] = to_f(bias[i]);
}

// Sum of the token log-probs of each sequence of pairs [pb, pe): blocks 2k, 2k+1 are pair pb+k.
__global__ void seq_sum_kernel(const float* __restrict__ tok, const int64_t* __restrict__ seq_begin,
                               const int64_t* __restrict__ seq_count, int64_t P, int64_t pb,
                               double* __restrict__ seq_sum) {
    __shared__ double scratch[kWarp];
    const int64_t n = pb + blockIdx.x / 2 + (blockIdx.x % 2) * P;
    const int64_t b = seq_begin[n], c = seq_count[n];
    double s = 0.0;  // float64, like the CPU path
    for (int64_t i = threadIdx.x; i < c; i += kThreads) s += (double)tok[b + i];
    s = block_sum<kThreads>(s, scratch);
    if (threadIdx.x == 0) seq_sum[n] = s;
}

__global__ void pair_coef_kernel(int64_t P, int64_t pb, int64_t pe, const double* __restrict__ seq_sum,
                                 const int64_t* __restrict__ seq_count, const float* __restrict__ ref,
                                 const float* __restrict__ targets, float beta, int average, float grad_scale,
                                 float* __restrict__ logps, float* __restrict__ z, float* __restrict__ chosen,
                                 float* __restrict__ rejected, double* __restrict__ pair_loss, float* __restrict__ coef,
                                 int32_t* __restrict__ status) {
    const int64_t i = pb + (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= pe) return;
    const double rc = (double)ref[i], rr = (double)ref[i + P];
    double q = targets ? (double)targets[i] : 1.0;
    if (!isfinite(rc) || !isfinite(rr)) atomicOr(status, DNO_FLAG_NONFINITE);
    if (!(q >= 0.0 && q <= 1.0)) { atomicOr(status, DNO_FLAG_TARGET_RANGE); q = 1.0; }
    dno::pair_step(i, P, seq_sum, seq_count, rc, rr, q, beta, average, grad_scale, logps, z, chosen, rejected, pair_loss, coef);
}

// G row r (type Tg, leading dimension ldg elements) over the float32 logits row r (ld V), which
// share memory. Each tile is read completely before any of it is written, and a 16-bit write
// of element j lands at byte 2j <= 4j, so it only overwrites logits already read.
template <typename Tg, int kPer>
__global__ void grad_rows_kernel(float* lc, int64_t V, int64_t ldg, const int64_t* __restrict__ rows,
                                 const int64_t* __restrict__ labels, const float* __restrict__ lse_in,
                                 const float* __restrict__ coef_in, int64_t T, const int32_t* __restrict__ status) {
    if (*status != 0) return;
    const int64_t r = blockIdx.x;
    const float* x = lc + r * V;
    Tg* g = reinterpret_cast<Tg*>(lc) + r * ldg;
    const int64_t label = labels[r];
    const float lse = lse_in[r];
    const float c = coef_in[rows[r] / T];
    constexpr int64_t kTile = (int64_t)kThreads * kPer;
    for (int64_t base = 0; base < V; base += kTile) {
        float p[kPer];
#pragma unroll
        for (int j = 0; j < kPer; ++j) {
            const int64_t i = base + (int64_t)j * kThreads + threadIdx.x;
            p[j] = i < V ? __expf(x[i] - lse) : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int j = 0; j < kPer; ++j) {
            const int64_t i = base + (int64_t)j * kThreads + threadIdx.x;
            if (i < V) g[i] = from_f<Tg>(i == label ? c * (1.f - p[j]) : -c * p[j]);
        }
        __syncthreads();
    }
}

template <typename Tg>
__global__ void bias_sum_kernel(const float* lc, int64_t R, int64_t V, int64_t ldg, float* __restrict__ acc) {
    const int64_t v = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= V) return;
    const Tg* g = reinterpret_cast<const Tg*>(lc);
    float s = 0.f;
    for (int64_t r = 0; r < R; ++r) s += to_f(g[r * ldg + v]);
    acc[v] += s;
}

template <typename T>
__global__ void scatter_kernel(const T* __restrict__ hc, const int64_t* __restrict__ rows, T* __restrict__ grad_hidden,
                               int64_t H, int accumulate) {
    const T* src = hc + (int64_t)blockIdx.x * H;
    T* dst = grad_hidden + rows[blockIdx.x] * H;
    for (int64_t i = threadIdx.x; i < H; i += blockDim.x)
        dst[i] = accumulate ? from_f<T>(to_f(dst[i]) + to_f(src[i])) : src[i];
}

__global__ void loss_kernel(const double* __restrict__ pair_loss, int64_t P, float* __restrict__ loss) {
    __shared__ double scratch[kThreads];
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < P; i += kThreads) acc += pair_loss[i];
    scratch[threadIdx.x] = acc;
    __syncthreads();
    for (int stride = kThreads / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) scratch[threadIdx.x] += scratch[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) *loss = (float)(scratch[0] / (double)P);
}

template <typename T>
__global__ void bias_out_kernel(const float* __restrict__ acc, T* __restrict__ grad_bias, int64_t V, int accumulate) {
    const int64_t v = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (v < V) grad_bias[v] = from_f<T>(accumulate ? to_f(grad_bias[v]) + acc[v] : acc[v]);
}

struct Args {
    int64_t P, T, H, V;
    int dtype;
    const void *hidden, *weight, *bias;
    int64_t ignore_index;
    const float *ref, *targets;
    float beta;
    int average;
    float grad_scale;
    float *loss, *logps, *z, *chosen, *rejected;
    void *grad_hidden, *grad_weight, *grad_bias;
    int accumulate;
    int32_t* status;
    cudaStream_t stream;
};

// The workspace of a call with this plan (at least one row of each piece, so that every pointer
// is valid even when nothing counts).
dno::FusedWorkspace workspace_layout(const Args& a, const dno::FusedPlan& plan) {
    return dno::FusedWorkspace(std::max<int64_t>((int64_t)plan.rows.size(), 1), std::max<int64_t>(plan.chunk_rows, 1),
                               a.P, a.H, a.V, dno::float_dtype_bytes(a.dtype));
}

template <typename T>
int run(const Args& a, const dno::FusedPlan& plan, int64_t max_rows, char* ws, const dno::FusedWorkspace& layout,
        int64_t* stats) {
    const int64_t P = a.P, N = 2 * a.P, H = a.H, V = a.V, R_all = (int64_t)plan.rows.size();
    const bool f32 = a.dtype == DNO_F32;
    const int64_t ldg = f32 ? V : 2 * V;  // G over Lc's rows, in elements of T
    int64_t* d_rows = (int64_t*)(ws + layout.rows);
    int64_t* d_labels = (int64_t*)(ws + layout.labels);
    int64_t* d_seq_begin = (int64_t*)(ws + layout.seq_begin);
    int64_t* d_seq_count = (int64_t*)(ws + layout.seq_count);
    float* lse = (float*)(ws + layout.lse);
    float* tok = (float*)(ws + layout.tok);
    double* seq_sum = (double*)(ws + layout.seq_sum);
    float* coef = (float*)(ws + layout.coef);
    double* pair_loss = (double*)(ws + layout.pair_loss);
    float* gb_acc = (float*)(ws + layout.bias_acc);
    T* hc = (T*)(ws + layout.hc);
    float* lc = (float*)(ws + layout.lc);
    cudaStream_t s = a.stream;
    if (R_all > 0) {
        DNO_CUDA_TRY(cudaMemcpyAsync(d_rows, plan.rows.data(), 8 * R_all, cudaMemcpyHostToDevice, s), "upload rows");
        DNO_CUDA_TRY(cudaMemcpyAsync(d_labels, plan.row_label.data(), 8 * R_all, cudaMemcpyHostToDevice, s), "upload labels");
    }
    DNO_CUDA_TRY(cudaMemcpyAsync(d_seq_begin, plan.seq_begin.data(), 8 * N, cudaMemcpyHostToDevice, s), "upload seq_begin");
    DNO_CUDA_TRY(cudaMemcpyAsync(d_seq_count, plan.seq_count.data(), 8 * N, cudaMemcpyHostToDevice, s), "upload seq_count");
    DNO_CUDA_TRY(cudaMemsetAsync(gb_acc, 0, 4 * V, s), "memset grad_bias accumulator");
    if (a.grad_hidden && !a.accumulate)
        DNO_CUDA_TRY(cudaMemsetAsync(a.grad_hidden, 0, (size_t)(N * a.T * H) * sizeof(T), s), "memset grad_hidden");

    cublasHandle_t handle;
    int rc = cublas_handle(&handle);
    if (rc != DNO_OK) return rc;
    const GemmExFn gemm = cublas().gemm;
    if (cublas().set_stream(handle, s) != 0) return dno::fail(DNO_E_CUDA, "cublasSetStream failed");
    const cudaDataType ty = cuda_type(a.dtype);
    const float one = 1.f, zero = 0.f;
    int64_t gemms = 0;
    bool gw_started = a.accumulate != 0;
    const bool backward = a.grad_hidden || a.grad_weight || a.grad_bias;
    const int threads_v = V >= 16384 ? 512 : 256;

    auto gemm_check = [&](int st, const char* what) {
        ++gemms;
        return st == 0 ? DNO_OK : dno::fail(DNO_E_CUDA, std::string(what) + ": cublasGemmEx failed with status " + std::to_string(st));
    };
    auto logits_chunk = [&](int64_t r0, int64_t R, bool stats_pass) -> int {
        gather_kernel<T><<<(unsigned)R, kThreads, 0, s>>>((const T*)a.hidden, d_rows + r0, hc, H);
        DNO_CUDA_LAUNCHED("gather_kernel");
        if (a.bias) {
            bias_fill_kernel<T><<<(unsigned)R, kThreads, 0, s>>>((const T*)a.bias, lc, V);
            DNO_CUDA_LAUNCHED("bias_fill_kernel");
        }
        // Column-major view: Lc^T [V,R] = W [V,H] (stored as [H,V], transposed) @ Hc^T [H,R].
        int r = gemm_check(gemm(handle, kOpT, kOpN, (int)V, (int)R, (int)H, &one, a.weight, ty, (int)H, hc, ty, (int)H,
                                a.bias ? &one : &zero, lc, CUDA_R_32F, (int)V, kCompute32F, kGemmDefault), "logits GEMM");
        if (r != DNO_OK || !stats_pass) return r;
        row_stats_kernel<float><<<(unsigned)R, threads_v, 0, s>>>(lc, d_labels + r0, 1, a.ignore_index, V, lse + r0,
                                                                  tok + r0, a.status);
        DNO_CUDA_LAUNCHED("row_stats_kernel");
        return DNO_OK;
    };
    auto backward_chunk = [&](int64_t r0, int64_t R) -> int {
        if (f32) grad_rows_kernel<float, 4><<<(unsigned)R, kThreads, 0, s>>>(lc, V, ldg, d_rows + r0, d_labels + r0,
                                                                               lse + r0, coef, a.T, a.status);
        else grad_rows_kernel<T, 4><<<(unsigned)R, kThreads, 0, s>>>(lc, V, ldg, d_rows + r0, d_labels + r0, lse + r0,
                                                                      coef, a.T, a.status);
        DNO_CUDA_LAUNCHED("grad_rows_kernel");
        if (a.grad_bias) {
            bias_sum_kernel<T><<<(unsigned)((V + kThreads - 1) / kThreads), kThreads, 0, s>>>(lc, R, V, ldg, gb_acc);
            DNO_CUDA_LAUNCHED("bias_sum_kernel");
        }
        if (a.grad_weight) {
            // gW^T [H,V] (+)= Hc^T [H,R] @ G [R,V]  (G stored as [V,R] with ld ldg, transposed)
            int r = gemm_check(gemm(handle, kOpN, kOpT, (int)H, (int)V, (int)R, &one, hc, ty, (int)H, lc, ty, (int)ldg,
                                    gw_started ? &one : &zero, a.grad_weight, ty, (int)H, kCompute32F, kGemmDefault),
                               "grad_weight GEMM");
            if (r != DNO_OK) return r;
            gw_started = true;
        }
        if (a.grad_hidden) {
            // gHc^T [H,R] = W^T [H,V] @ G^T [V,R], into Hc (no longer needed)
            int r = gemm_check(gemm(handle, kOpN, kOpN, (int)H, (int)R, (int)V, &one, a.weight, ty, (int)H, lc, ty,
                                    (int)ldg, &zero, hc, ty, (int)H, kCompute32F, kGemmDefault), "grad_hidden GEMM");
            if (r != DNO_OK) return r;
            scatter_kernel<T><<<(unsigned)R, kThreads, 0, s>>>(hc, d_rows + r0, (T*)a.grad_hidden, H, a.accumulate);
            DNO_CUDA_LAUNCHED("scatter_kernel");
        }
        return DNO_OK;
    };

    for (const dno::FusedGroup& g : plan.groups) {
        const int64_t rows = g.row_end - g.row_begin;
        const int64_t step = g.two_pass ? max_rows : std::max<int64_t>(rows, 1);
        for (int64_t r0 = g.row_begin; r0 < g.row_end; r0 += step)
            if ((rc = logits_chunk(r0, std::min(step, g.row_end - r0), true)) != DNO_OK) return rc;
        const int64_t np = g.pair_end - g.pair_begin;
        seq_sum_kernel<<<(unsigned)(2 * np), kThreads, 0, s>>>(tok, d_seq_begin, d_seq_count, P, g.pair_begin, seq_sum);
        DNO_CUDA_LAUNCHED("seq_sum_kernel");
        pair_coef_kernel<<<(unsigned)((np + kThreads - 1) / kThreads), kThreads, 0, s>>>(
            P, g.pair_begin, g.pair_end, seq_sum, d_seq_count, a.ref, a.targets, a.beta, a.average, a.grad_scale,
            a.logps, a.z, a.chosen, a.rejected, pair_loss, coef, a.status);
        DNO_CUDA_LAUNCHED("pair_coef_kernel");
        if (!backward || rows == 0) continue;
        if (!g.two_pass) {
            if ((rc = backward_chunk(g.row_begin, rows)) != DNO_OK) return rc;
            continue;
        }
        for (int64_t r0 = g.row_begin; r0 < g.row_end; r0 += step) {
            const int64_t R = std::min(step, g.row_end - r0);
            if ((rc = logits_chunk(r0, R, false)) != DNO_OK) return rc;
            if ((rc = backward_chunk(r0, R)) != DNO_OK) return rc;
        }
    }
    loss_kernel<<<1, kThreads, 0, s>>>(pair_loss, P, a.loss);
    DNO_CUDA_LAUNCHED("loss_kernel");
    if (a.grad_weight && !gw_started)
        DNO_CUDA_TRY(cudaMemsetAsync(a.grad_weight, 0, (size_t)(V * H) * sizeof(T), s), "memset grad_weight");
    if (a.grad_bias) {
        bias_out_kernel<T><<<(unsigned)((V + kThreads - 1) / kThreads), kThreads, 0, s>>>(gb_acc, (T*)a.grad_bias, V,
                                                                                           a.accumulate);
        DNO_CUDA_LAUNCHED("bias_out_kernel");
    }
    if (stats) {
        stats[0] = layout.bytes;
        stats[1] = plan.chunks;
        stats[2] = gemms;
        stats[3] = plan.two_pass_pairs;
    }
    return DNO_OK;
}

}  // namespace

extern "C" int dno_fused_linear_cuda(int64_t pairs, int64_t seq_len, int64_t hidden_size, int64_t vocab, int dtype,
                                     const void* hidden, const void* weight, const void* bias, int labels_dtype,
                                     const void* labels, int64_t ignore_index, const float* ref_logps,
                                     const float* targets, float beta, int average, float grad_scale, float* loss,
                                     float* logps, float* z, float* chosen_rewards, float* rejected_rewards,
                                     void* grad_hidden, void* grad_weight, void* grad_bias, int accumulate,
                                     int64_t memory_budget, int64_t* stats, int32_t* status, void* stream_ptr) {
    dno::clear_error();
    try {
        const int64_t P = pairs, T = seq_len, H = hidden_size, V = vocab, N = 2 * pairs;
        int rc = dno::check_common(P, T, V, dtype, hidden, labels_dtype, labels, ref_logps, beta, grad_scale, loss,
                                   logps, z);
        if (rc != DNO_OK) return rc;
        if (H <= 0 || H > 2147483647LL || V > 1073741823LL)
            return dno::fail(DNO_E_INVALID_ARGUMENT, "hidden_size must be in (0, 2^31) and vocab below 2^30 for cuBLAS");
        if (!weight) return dno::fail(DNO_E_INVALID_ARGUMENT, "weight is NULL");
        if (!status) return dno::fail(DNO_E_INVALID_ARGUMENT, "status is NULL");
        if (grad_bias && !bias) return dno::fail(DNO_E_INVALID_ARGUMENT, "grad_bias needs bias (bias is NULL)");
        if (memory_budget < 0)
            return dno::fail(DNO_E_INVALID_ARGUMENT, "memory_budget must be >= 0, got " + std::to_string(memory_budget));
        const int64_t budget = memory_budget > 0 ? memory_budget : DNO_FUSED_DEFAULT_BUDGET;
        cudaStream_t stream = (cudaStream_t)stream_ptr;

        // The labels come to the host once, to plan the chunks (sizes of the GEMMs).
        const int64_t lbytes = N * T * (labels_dtype == DNO_I64 ? 8 : 4);
        std::vector<char> host_labels((size_t)lbytes);
        DNO_CUDA_TRY(cudaMemcpyAsync(host_labels.data(), labels, (size_t)lbytes, cudaMemcpyDeviceToHost, stream),
                     "copy labels to the host");
        DNO_CUDA_TRY(cudaStreamSynchronize(stream), "cudaStreamSynchronize");

        const int64_t es = dno::float_dtype_bytes(dtype);
        const int64_t fixed = dno::FusedWorkspace::fixed_bytes_bound(N * T, P, H, V, es);
        const int64_t per_row = dno::FusedWorkspace::bytes_per_chunk_row(H, V, es);
        if (budget - fixed < per_row)
            return dno::fail(DNO_E_INVALID_ARGUMENT, "memory_budget " + std::to_string(budget) + " bytes is too small: " +
                                                         std::to_string(fixed + per_row) + " bytes are needed for one row of " +
                                                         std::to_string(V) + " logits");
        const int64_t max_rows = std::min<int64_t>((budget - fixed) / per_row, 1 << 30);
        dno::FusedPlan plan;
        rc = dno::make_fused_plan(P, T, V, labels_dtype, host_labels.data(), ignore_index, max_rows, plan);
        if (rc != DNO_OK) return rc;
        Args a{P, T, H, V, dtype, hidden, weight, bias, ignore_index, ref_logps, targets, beta, average, grad_scale,
               loss, logps, z, chosen_rewards, rejected_rewards, grad_hidden, grad_weight, grad_bias, accumulate,
               status, stream};
        const dno::FusedWorkspace layout = workspace_layout(a, plan);
        char* ws = nullptr;
        DNO_CUDA_TRY(cudaMallocAsync((void**)&ws, (size_t)layout.bytes, stream), "cudaMallocAsync(workspace)");
        switch (dtype) {
            case DNO_F32: rc = run<float>(a, plan, max_rows, ws, layout, stats); break;
            case DNO_BF16: rc = run<__nv_bfloat16>(a, plan, max_rows, ws, layout, stats); break;
            default: rc = run<__half>(a, plan, max_rows, ws, layout, stats);
        }
        // The host plan's vectors were uploaded from pageable memory: cudaMemcpyAsync has staged
        // them before returning, so they may go out of scope now.
        const cudaError_t err = cudaFreeAsync(ws, stream);
        if (rc == DNO_OK && err != cudaSuccess) return cuda_fail(err, "cudaFreeAsync(workspace)");
        return rc;
    } catch (const std::bad_alloc&) {
        return dno::fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_fused_linear_cuda");
    } catch (const std::exception& e) {
        return dno::fail(DNO_E_INTERNAL, std::string("dno_fused_linear_cuda: ") + e.what());
    }
}
