// Internals shared by the CPU and CUDA implementations: error reporting, validation of the
// scalar arguments and the pair-level math (z, loss, per-sequence gradient coefficients).
#ifndef DNO_INTERNAL_H
#define DNO_INTERNAL_H

#include <cmath>
#include <cstdint>
#include <string>

#include "dno_loss.h"

namespace dno {

// Records the message returned by dno_last_error() on this thread and returns `status`.
int fail(int status, const std::string& message);
void clear_error();

// log(1 + exp(x)) without overflow for any finite x: max(x,0) + log1p(exp(-|x|)).
inline double softplus(double x) { return (x > 0 ? x : 0.0) + std::log1p(std::exp(-std::fabs(x))); }
inline double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
    double e = std::exp(x);
    return e / (1.0 + e);
}

// Checks shared by both devices; returns DNO_OK or a failure with a message naming the argument.
int check_common(int64_t pairs, int64_t seq_len, int64_t vocab, int logits_dtype, const void* logits,
                 int labels_dtype, const void* labels, const float* ref_logps, float beta,
                 float grad_scale, const float* loss, const float* logps, const float* z);

const char* dtype_name(int dtype);

}  // namespace dno

#endif
