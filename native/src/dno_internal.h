// Host-side internals shared by the CPU and CUDA implementations: error reporting and the
// validation of arguments. The pair-level math and the element helpers are in dno_pair_math.h.
#ifndef DNO_INTERNAL_H
#define DNO_INTERNAL_H

#include <cstdint>
#include <string>

#include "dno_loss.h"
#include "dno_pair_math.h"

namespace dno {

// Records the message returned by dno_last_error() on this thread and returns `status`.
int fail(int status, const std::string& message);
void clear_error();

// Checks shared by both devices; returns DNO_OK or a failure with a message naming the argument.
int check_common(int64_t pairs, int64_t seq_len, int64_t vocab, int logits_dtype, const void* logits,
                 int labels_dtype, const void* labels, const float* ref_logps, float beta,
                 float grad_scale, const float* loss, const float* logps, const float* z);

// The host-side checks of ref_logps [2*pairs] (finite) and targets [pairs] (NULL or in [0,1]).
int check_ref_and_targets(int64_t pairs, const float* ref_logps, const float* targets);

// "[n,t]" for global row n*seq_len + t, as the error messages name positions.
std::string position_name(int64_t row, int64_t seq_len);

// DNO_E_LABEL_RANGE for labels[row] = label, which is neither a token id nor the ignore index.
int fail_label_range(int64_t row, int64_t seq_len, int64_t label, int64_t vocab, int64_t ignore_index);

const char* dtype_name(int dtype);

// The sizes of a product y [rows, out_features] = x [rows, in_features] W^T, x's rows
// `stride_name` = x_row_stride apart, and num_threads >= 0: DNO_OK or a failure naming the argument.
int check_linear_shape(int64_t rows, int64_t in_features, int64_t out_features, int64_t x_row_stride,
                       const char* stride_name, int num_threads);

// C = alpha x op(B) + beta C (row-major) on AMX with op(B) packed piece by piece as the product
// goes (dno_amx_linear_cpu.cpp): for an op(B) too large to pack whole and keep in cache. x [M, K]
// (row stride xs); B stored [N, K] when b_is_nk, else [K, N] (row stride ldb). M, N, K >= 1.
int amx_gemm_streamed(int64_t M, int64_t N, int64_t K, const float* x, int64_t xs, const float* b, int64_t ldb,
                      bool b_is_nk, float alpha, float beta, float* C, int64_t ldc, int num_threads);

}  // namespace dno

#endif
