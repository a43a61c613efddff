/*
 * dno_loss.h: the C API of libdnonative, the fused pairwise log-ratio loss of
 * Direct Nash Optimization (DNO, arXiv 2404.03715) and its gradient.
 *
 * What it computes, for P preference pairs, N = 2P sequences of T positions over V tokens
 * (chosen sequences are rows 0..P-1, rejected sequences rows P..2P-1):
 *   s_n    = sum over counted t of log softmax(logits[n,t,:])[labels[n,t]]
 *            (or the mean over counted t when `average` is set; 0 when nothing counts);
 *            a position counts when labels[n,t] != ignore_index
 *   z_i    = beta * ((s_i - ref_i) - (s_{i+P} - ref_{i+P}))
 *   loss_i = -q_i log sigma(z_i) - (1 - q_i) log sigma(-z_i)    (q_i = targets[i], or 1)
 *   loss   = mean over pairs of loss_i
 *   grad   = grad_scale * d loss / d logits, same shape and dtype as logits; zero at ignored
 *            positions. `grad` may be the logits buffer itself (in place).
 *
 * Shapes and dtypes (all row-major, contiguous):
 *   logits    [N,T,V]  DNO_F32 | DNO_BF16 | DNO_F16
 *   labels    [N,T]    DNO_I32 | DNO_I64
 *   ref_logps [N]      float32;  targets [P] float32 in [0,1], or NULL for hard targets
 *   outputs: loss [1], logps [N], z [P], chosen_rewards [P], rejected_rewards [P] (float32;
 *   rewards are beta * (s - ref); the reward arrays may be NULL); grad NULL = forward only.
 *
 * Devices: dno_loss_cpu takes host pointers and runs on num_threads threads (0 = all cores; at most
 * 1024, more count as 1024; threads the system refuses to start leave their work to the calling
 * thread, with the same result), with the row kernels dno_cpu_kernels names.
 * dno_loss_cuda takes device pointers and only enqueues work on `stream` (a cudaStream_t, NULL
 * for the legacy default stream): it never synchronises with the host. Errors found on the
 * device (non-finite logits or reference log-probs, labels out of range, targets outside [0,1])
 * are OR-ed as DNO_FLAG_* bits into the device int `status`, which the caller zeroes
 * beforehand (dno_cuda_memset) and reads after synchronising (dno_cuda_read_status); when a
 * flag is set the gradient kernel writes nothing, so in-place logits are left intact.
 *
 * Numerics: softmax statistics accumulated in float32 (online max / sum-exp per row), sequence
 * sums in float64 on the CPU and in a fixed-order float32 tree on the GPU, log sigma computed
 * stably for any finite z. Deterministic: the same inputs on the same device give bitwise the
 * same outputs (fixed reduction orders, no floating-point atomics).
 *
 * Errors: every function returns a dno_status; DNO_OK is 0. Nothing here calls exit() or
 * abort(). dno_last_error() returns a message for the last failure on the calling thread.
 */
#ifndef DNO_LOSS_H
#define DNO_LOSS_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define DNO_API __declspec(dllexport)
#else
#define DNO_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dno_status {
    DNO_OK = 0,
    DNO_E_INVALID_ARGUMENT = 1, /* a shape, dtype, pointer or scalar is wrong */
    DNO_E_NONFINITE = 2,        /* NaN or infinite logits or reference log-probs */
    DNO_E_LABEL_RANGE = 3,      /* a label outside [0,V) that is not the ignore index */
    DNO_E_TARGET_RANGE = 4,     /* a target outside [0,1] */
    DNO_E_CUDA = 5,             /* a CUDA runtime error (the message names it) */
    DNO_E_NO_CUDA = 6,          /* the library was built without CUDA, or no device is present */
    DNO_E_OUT_OF_MEMORY = 7,
    DNO_E_INTERNAL = 8,
    DNO_E_UNSUPPORTED = 9       /* this CPU or operating system cannot run the kernel (AMX) */
} dno_status;

/* Bits OR-ed into the device status word by the CUDA kernels. */
enum {
    DNO_FLAG_NONFINITE = 1,
    DNO_FLAG_LABEL_RANGE = 2,
    DNO_FLAG_TARGET_RANGE = 4
};

typedef enum dno_dtype { DNO_F32 = 0, DNO_BF16 = 1, DNO_F16 = 2, DNO_I32 = 3, DNO_I64 = 4 } dno_dtype;

DNO_API const char* dno_last_error(void);
DNO_API const char* dno_version(void);

/* The build of the CPU row kernels this process uses: "baseline" (x86-64), "avx2" (x86-64-v3) or
 * "avx512" (x86-64-v4), written to *name (a static string). By default the best the CPU supports;
 * the environment variable DNO_CPU_KERNELS=auto|baseline|avx2|avx512, read once per process,
 * chooses another (to test every build on one machine). A value that is unknown, or names a
 * build this CPU cannot run, makes this and every CPU loss call fail with
 * DNO_E_INVALID_ARGUMENT and a message naming the variable and what the CPU supports. */
DNO_API int dno_cpu_kernels(const char** name);

DNO_API int dno_loss_cpu(int64_t pairs, int64_t seq_len, int64_t vocab,
                         int logits_dtype, const void* logits,
                         int labels_dtype, const void* labels, int64_t ignore_index,
                         const float* ref_logps, const float* targets,
                         float beta, int average, float grad_scale,
                         float* loss, float* logps, float* z,
                         float* chosen_rewards, float* rejected_rewards,
                         void* grad, int num_threads);

/* Bytes of device workspace dno_loss_cuda needs for N sequences of T positions. */
DNO_API int64_t dno_loss_cuda_workspace_size(int64_t sequences, int64_t seq_len);

/* workspace: at least dno_loss_cuda_workspace_size bytes of device memory (256-byte aligned),
 * or NULL to allocate it stream-ordered (cudaMallocAsync / cudaFreeAsync) on `stream`. */
DNO_API int dno_loss_cuda(int64_t pairs, int64_t seq_len, int64_t vocab,
                          int logits_dtype, const void* logits,
                          int labels_dtype, const void* labels, int64_t ignore_index,
                          const float* ref_logps, const float* targets,
                          float beta, int average, float grad_scale,
                          float* loss, float* logps, float* z,
                          float* chosen_rewards, float* rejected_rewards,
                          void* grad, int32_t* status, void* workspace, void* stream);

/* Small CUDA runtime helpers, so that JVM callers without the CUDA presets can own device
 * memory. All return DNO_E_NO_CUDA when CUDA is not available. */
DNO_API int dno_cuda_device_count(int* count);
DNO_API int dno_cuda_malloc(void** ptr, int64_t bytes);
DNO_API int dno_cuda_free(void* ptr);
DNO_API int dno_cuda_memcpy_to_device(void* dst, const void* src, int64_t bytes);
DNO_API int dno_cuda_memcpy_to_host(void* dst, const void* src, int64_t bytes);
DNO_API int dno_cuda_memset(void* ptr, int value, int64_t bytes, void* stream);
DNO_API int dno_cuda_stream_synchronize(void* stream);
/* Synchronises `stream`, then copies the device status word to *status_host. */
DNO_API int dno_cuda_read_status(const int32_t* status, void* stream, int32_t* status_host);
/* The high-water mark, in bytes, of memory in use from the current device's default stream-ordered
 * pool (cudaMallocAsync: the fused-linear loss's workspace) since the last reset; reset = 1 then
 * restarts it from what is in use now. Synchronise first for a figure that covers finished work. */
DNO_API int dno_cuda_async_pool_peak(int64_t* bytes, int reset);

/* y = x W^T (+ bias) in float32 for a few rows of x: the per-token step of sampling.
 *   x [rows, in_features] float32 (row stride x_row_stride >= in_features), weight [out_features,
 *   in_features] contiguous row-major (a torch.nn.Linear weight) of weight_dtype DNO_F32 or DNO_BF16
 *   (bf16 weights are widened exactly to float32: half the bytes to read, float32 products and
 *   sums all the same), bias [out_features] float32 or NULL, y [rows, out_features] float32
 *   contiguous, not overlapping x, weight or bias.
 * Streams the weight once for all rows (no packing), so it is for rows up to about 16; a GEMM
 * library is faster beyond. num_threads (0 = all cores) split the output columns; the result
 * is bitwise the same for every thread count and run, for the build dno_cpu_kernels names.
 * Float32 rounding over in_features terms in a fixed order (not the order of a BLAS). */
DNO_API int dno_small_linear_cpu(int64_t rows, int64_t in_features, int64_t out_features,
                                 const float* x, int64_t x_row_stride, int weight_dtype, const void* weight,
                                 const float* bias, float* y, int num_threads);

/* y = x W^T (+ bias) for many rows on Intel AMX (the prefill and scoring forward), accurate to
 * about float32: every float32 input v is split into bf16 parts hi = bf16(v), lo = bf16(v - hi) and
 *   y = x_hi W_hi + x_hi W_lo + x_lo W_hi   (three bf16 tile products, float32 accumulation),
 * which keeps 16 of float32's 24 mantissa bits of each input: measured error ~5e-6 of the largest
 * output on random products (a float32 BLAS: ~5e-7; one bf16 product: ~2e-3).
 *   dno_amx_available: 1 when this CPU has AMX-BF16 tiles, the OS grants the tile state and
 *     DNO_CPU_KERNELS does not pin an older build (nor DNO_AMX=off); else 0 and, when why_not is
 *     not NULL, a static sentence saying why.
 *   dno_amx_packed_weight_bytes: the bytes dno_amx_pack_weight writes for a [out, in] weight
 *     (-1 for sizes below 1).
 *   dno_amx_pack_weight: weight [out_features, in_features] float32 (row stride w_row_stride) into
 *     packed (the kernel's tile layout; pack once per weight value, reuse for every product).
 *   dno_amx_linear: x [rows, in_features] (row stride x_row_stride), the packed weight, bias
 *     [out_features] or NULL, y [rows, out_features] contiguous, not overlapping the inputs.
 * num_threads (0 = all cores) split the work; the result is bitwise the same for every thread
 * count and run. Both return DNO_E_UNSUPPORTED (with the reason) where AMX is not available. */
DNO_API int dno_amx_available(const char** why_not);
DNO_API int64_t dno_amx_packed_weight_bytes(int64_t out_features, int64_t in_features);
DNO_API int dno_amx_pack_weight(int64_t out_features, int64_t in_features, const float* weight, int64_t w_row_stride,
                                void* packed, int num_threads);
/* The same packing from the weight's transpose weight_t [in_features, out_features] (row stride
 * wt_row_stride >= out_features): for a product x W^T whose W is stored [K, N] (x @ B). */
DNO_API int dno_amx_pack_weight_transposed(int64_t out_features, int64_t in_features, const float* weight_t,
                                           int64_t wt_row_stride, void* packed, int num_threads);
DNO_API int dno_amx_linear(int64_t rows, int64_t in_features, int64_t out_features, const float* x,
                           int64_t x_row_stride, const void* packed_weight, const float* bias, float* y,
                           int num_threads);

/* cblas_sgemm's signature and meaning (order CblasRowMajor 101 / CblasColMajor 102, transposes
 * CblasNoTrans 111 / CblasTrans 112 / CblasConjTrans 113) on the AMX bf16x3 products above: about
 * float32 accuracy, ~2x a float32 BLAS on one AMX core. For callers that take a GEMM as a CBLAS
 * function pointer (dno_fused_linear_cpu's `sgemm`, with dno_amx_sgemm_set_threads as its
 * `blas_set_threads`). op(B) is packed on every call (from either orientation), whole when that
 * takes at most 2 MiB, else piece by piece as the product goes (256 columns by 512 of depth); a
 * transposed A is transposed into scratch. Scratch, kept per calling thread and grown as needed:
 * 4 bytes per element of A when transposed and of op(B) when packed whole (512 KiB per thread
 * and 4 * 256 per row of A when streamed), and 4 * min(M, 1024) * N for y when alpha != 1,
 * beta != 0 or ldc != N. Results are bitwise the same for every thread count.
 *   dno_amx_sgemm_set_threads: the threads of later calls (0 = every core), process-wide.
 *   dno_amx_sgemm_take_error: CBLAS returns nothing, so a failed call (AMX not available, out of
 *     memory, invalid arguments) fills C with NaN and records its status and message; this
 *     returns the first status recorded since the last take (DNO_OK if none), its message in
 *     dno_last_error(), and clears it. */
DNO_API void dno_amx_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                           int lda, const float* b, int ldb, float beta, float* c, int ldc);
DNO_API void dno_amx_sgemm_set_threads(int num_threads);
/* The same row-major product with its own thread count (0 = every core) and a status return (no
 * NaN fill, nothing recorded for dno_amx_sgemm_take_error): C = alpha op(A) op(B) + beta C, A
 * [M, K] (trans_a 111) or [K, M] (112), B [K, N] or [N, K], row strides lda, ldb, ldc. For callers
 * that run several products at once on threads of their own (the training step's linear layers,
 * one pair per worker), where a process-wide thread count would not do. */
DNO_API int dno_amx_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                         int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int num_threads);
DNO_API int dno_amx_sgemm_take_error(void);

/* One Llama-family decoder layer for one new token per sequence (the decode step of sampling), in place:
 *   h = RMSNorm(x) * input_norm; q, k, v = h Wq^T + bq, h Wk^T + bk, h Wv^T + bv (biases [out] or NULL:
 *   Qwen2); with q_norm and k_norm [head_dim] (Qwen3; both or neither) each head's q and k RMSNormed
 *   with them; RoPE on q and k (cos, sin
 *   [batch, head_dim] for each row's position); k and v written to slot `position` of the layer's
 *   cache keys/values [batch, kv_heads, capacity, head_dim]; attention of q over the slots
 *   0..position whose key_valid [batch, capacity] byte is nonzero, and with window > 0 (Mistral's
 *   sliding window) only those after position - window (softmax of scale * q.k in float32); x += attn Wo^T; h = RMSNorm(x) * post_norm; x += (silu(h Wg^T) * h Wu^T) Wd^T.
 * x [batch, hidden] float32; norms float32; the seven matrices row-major [out, in] of weight_dtype
 * DNO_F32 or DNO_BF16 (widened exactly); no o or MLP biases. Products through dno_small_linear_cpu
 * (num_threads split their columns): bitwise the same for every thread count and run; against a
 * composition of libtorch ops the same to float32 rounding. */
DNO_API int dno_llama_decode_layer_cpu(int64_t batch, int64_t hidden, int64_t heads, int64_t kv_heads,
                                       int64_t head_dim, int64_t intermediate, float* x, const float* input_norm,
                                       const float* post_norm, float eps, int weight_dtype, const void* wq,
                                       const void* wk, const void* wv, const void* wo, const void* wgate,
                                       const void* wup, const void* wdown, const float* bq, const float* bk,
                                       const float* bv, const float* q_norm, const float* k_norm,
                                       const float* cos, const float* sin, float* keys, float* values,
                                       const uint8_t* key_valid, int64_t capacity, int64_t position, int64_t window,
                                       float scale, int num_threads);

/* Makes the C library's allocator keep freed host memory for reuse (glibc: no mmap for large
 * blocks, no trimming, the heap grown 256 MiB at a time) instead of unmapping and page-faulting
 * large blocks anew on every allocation. Process-wide and not undone; the process's memory then
 * stays at its high-water mark. DNO_E_UNSUPPORTED where the C library is not glibc. */
DNO_API int dno_keep_freed_host_memory(void);

/* The optimizer step of training, for float32 parameters on the host: one pass over each tensor.
 *
 * dno_grad_sq_norm_cpu: *sq_norm = sum of grad[i]^2 over n elements, in float64 in a fixed order
 * (the same for every thread count and build). Returns DNO_E_NONFINITE (and, when
 * first_nonfinite_block is not NULL, the first element of the 65536-element block that holds it)
 * when an element is NaN or infinite; nothing is written then.
 *
 * dno_adamw_cpu: AdamW (decoupled weight decay, bias-corrected moments) in place over n elements:
 *   g = grad * grad_scale;  p *= 1 - lr * weight_decay;  m = beta1 m + (1 - beta1) g;
 *   v = beta2 v + (1 - beta2) g^2;  p -= lr / bias_correction1 * m / (sqrt(v / bias_correction2) + eps)
 * bias_correction_k = 1 - beta_k^step, as the caller counts steps. Float32 throughout, every
 * operation correctly rounded (see native/src/cpu_adamw.inc for the exact sequence): bitwise the
 * same result for every build, thread count and run. zero_grad = 1 leaves grad zero afterwards.
 * The four arrays must not overlap. Scalars out of range return DNO_E_INVALID_ARGUMENT before
 * anything is written; grads are not checked here (check them with dno_grad_sq_norm_cpu first). */
DNO_API int dno_grad_sq_norm_cpu(int64_t n, const float* grad, double* sq_norm, int64_t* first_nonfinite_block,
                                 int num_threads);
DNO_API int dno_adamw_cpu(int64_t n, float* param, float* grad, float* exp_avg, float* exp_avg_sq, double lr,
                          double beta1, double beta2, double eps, double weight_decay, double bias_correction1,
                          double bias_correction2, float grad_scale, int zero_grad, int num_threads);

/* ---------------------------------------------------------------------------------------------
 * Fused-linear form: the same loss straight from the final hidden states, without the logits.
 *
 *   logits[n,t,:] = hidden[n,t,:] @ weight^T (+ bias), then the loss above.
 *
 * Shapes: hidden [N,T,H], weight [V,H], bias [V] or NULL, all of one dtype (DNO_F32, DNO_BF16,
 * DNO_F16); labels, ref_logps, targets, beta, average, grad_scale and the outputs as above.
 * Gradients (each may be NULL on its own; all NULL = forward only): grad_hidden [N,T,H],
 * grad_weight [V,H], grad_bias [V] (needs bias), in the dtype of hidden. With accumulate = 0 they
 * are overwritten (grad_hidden is zero at ignored positions); with accumulate = 1 the gradient is
 * added to what they hold.
 *
 * Only counted positions cost anything: their hidden rows are gathered into a compact block, and
 * the logits exist only for a chunk of counted rows at a time, in float32. Chunks hold whole
 * preference pairs (3 GEMMs per chunk: logits, grad_weight, grad_hidden); a pair whose counted
 * rows alone exceed the chunk is done in two passes over row chunks (the logits GEMM twice).
 * memory_budget bounds the extra memory of the call in bytes (0 = DNO_FUSED_DEFAULT_BUDGET); a
 * budget too small for one row of logits is an error. Exception, CPU only: the CPU computes in
 * float32, so for 16-bit weights it also holds a float32 copy of weight and of grad_weight
 * (8*V*H bytes, independent of N and T, outside the budget).
 *
 * stats: NULL, or int64[4] receiving {peak extra bytes allocated, chunks, GEMM calls,
 * pairs done in two passes}.
 *
 * Errors: as above. On the CPU, non-finite hidden (at counted positions), weight or bias values
 * are found before any gradient is written; if logits overflow to infinity in the middle of the
 * call, the call fails and the gradient buffers hold unspecified values. On the GPU, non-finite
 * values raise DNO_FLAG_NONFINITE in `status` and the gradient buffers are then unspecified.
 *
 * CPU: GEMMs go through a BLAS cblas_sgemm passed in as `sgemm` (a function pointer with the
 * standard CBLAS signature; the Java layer passes OpenBLAS's); `blas_set_threads` (NULL or
 * void(int), e.g. openblas_set_num_threads) is called with num_threads when num_threads > 0.
 * Deterministic for a fixed BLAS and thread count.
 *
 * CUDA: GEMMs through cuBLAS (loaded at run time: libcublas.so.13, else libcublas.so; bf16/fp16
 * operands with float32 accumulation, logits in float32). It copies labels to the host once
 * (one synchronisation of `stream`) to plan the chunks, then only enqueues work; device-found
 * errors go to `status` as for dno_loss_cuda. grad_weight of 16-bit weights is accumulated in
 * its own dtype across chunks (one rounding per chunk). Extra device memory is allocated
 * stream-ordered on `stream` and stays within the budget.
 */
#define DNO_FUSED_DEFAULT_BUDGET ((int64_t)1 << 30)

DNO_API int dno_fused_linear_cpu(int64_t pairs, int64_t seq_len, int64_t hidden_size, int64_t vocab,
                                 int dtype, const void* hidden, const void* weight, const void* bias,
                                 int labels_dtype, const void* labels, int64_t ignore_index,
                                 const float* ref_logps, const float* targets,
                                 float beta, int average, float grad_scale,
                                 float* loss, float* logps, float* z,
                                 float* chosen_rewards, float* rejected_rewards,
                                 void* grad_hidden, void* grad_weight, void* grad_bias, int accumulate,
                                 int64_t memory_budget, int64_t* stats,
                                 void* sgemm, void* blas_set_threads, int num_threads);

/* Device pointers; ref_logps and targets on the device too; outputs (loss, logps, z, rewards) on
 * the device. */
DNO_API int dno_fused_linear_cuda(int64_t pairs, int64_t seq_len, int64_t hidden_size, int64_t vocab,
                                  int dtype, const void* hidden, const void* weight, const void* bias,
                                  int labels_dtype, const void* labels, int64_t ignore_index,
                                  const float* ref_logps, const float* targets,
                                  float beta, int average, float grad_scale,
                                  float* loss, float* logps, float* z,
                                  float* chosen_rewards, float* rejected_rewards,
                                  void* grad_hidden, void* grad_weight, void* grad_bias, int accumulate,
                                  int64_t memory_budget, int64_t* stats,
                                  int32_t* status, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* DNO_LOSS_H */
