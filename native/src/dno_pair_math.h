// The pair-level math of the DNO loss and the small element helpers, written once for every path:
// the CPU logits loss, the CPU fused-linear loss, and both CUDA losses (device code calls the
// DNO_HD functions; the CPU emulation of CUDA compiles them as plain C++).
//
// Every function has internal linkage (static): the per-row CPU kernels include this header in
// translation units built for different instruction sets (cpu_rows_*.cpp), and an inline function
// with external linkage could be merged by the linker into the AVX-512 copy and run on a CPU
// without AVX-512.
#ifndef DNO_PAIR_MATH_H
#define DNO_PAIR_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dno_loss.h"

#if defined(__CUDACC__)
#define DNO_HD __host__ __device__
#else
#define DNO_HD
#endif

namespace dno {

// --- the pair-level math (float64) --------------------------------------------------------------

// log(1 + e^x) without overflow for any finite x: max(x,0) + log1p(e^-|x|).
DNO_HD static inline double softplus(double x) { return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x))); }

// sigma(x) without overflow for any finite x.
DNO_HD static inline double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    const double e = exp(x);
    return e / (1.0 + e);
}

// s_n from the sum of its counted token log-probs: the sum, or the mean when `average` is set
// (0 when nothing counts).
DNO_HD static inline double sequence_logp(double sum, double count, int average) {
    return average ? (count > 0 ? sum / count : 0.0) : sum;
}

// What one preference pair contributes (see dno_loss.h for the definitions).
struct PairTerms {
    double chosen_reward;    // beta * (s_chosen - ref_chosen)
    double rejected_reward;  // beta * (s_rejected - ref_rejected)
    double z;                // chosen_reward - rejected_reward
    double loss;             // -q log sigma(z) - (1 - q) log sigma(-z), before the mean over pairs
    double coef_chosen;      // d (grad_scale * mean loss) / d (each counted token log-prob of chosen)
    double coef_rejected;    // the same for the rejected sequence
};

// s_*: sequence log-probs (after sequence_logp); count_*: their counted positions (for the mean);
// q: the target in [0,1]; pairs: P, the mean's divisor.
DNO_HD static inline PairTerms pair_terms(double s_chosen, double s_rejected, double ref_chosen, double ref_rejected,
                                          double q, float beta, float grad_scale, int64_t pairs, int average,
                                          double count_chosen, double count_rejected) {
    PairTerms t;
    t.chosen_reward = beta * (s_chosen - ref_chosen);
    t.rejected_reward = beta * (s_rejected - ref_rejected);
    t.z = t.chosen_reward - t.rejected_reward;
    t.loss = q * softplus(-t.z) + (1.0 - q) * softplus(t.z);
    // d loss_i / d z_i = sigma(z) - q; the mean over pairs and grad_scale scale it.
    const double dz = (sigmoid(t.z) - q) * (double)grad_scale * beta / (double)pairs;
    t.coef_chosen = average ? (count_chosen > 0 ? dz / count_chosen : 0.0) : dz;
    t.coef_rejected = average ? (count_rejected > 0 ? -dz / count_rejected : 0.0) : -dz;
    return t;
}

// Pair i of P from float64 sequence sums, with reference log-probs rc, rr and target q: writes the two
// sequences' logps, z_i, the rewards (chosen/rejected may be NULL), the pair's loss and the two
// sequences' gradient coefficients. One thread per pair on the GPU, a loop over pairs on the host.
DNO_HD static inline void pair_step(int64_t i, int64_t P, const double* seq_sum, const int64_t* seq_count, double rc, double rr,
                                    double q, float beta, int average, float grad_scale, float* logps, float* z,
                                    float* chosen, float* rejected, double* pair_loss, float* coef) {
    const double nc = (double)seq_count[i], nr = (double)seq_count[i + P];
    const double sc = sequence_logp(seq_sum[i], nc, average);
    const double sr = sequence_logp(seq_sum[i + P], nr, average);
    logps[i] = (float)sc;
    logps[i + P] = (float)sr;
    const PairTerms t = pair_terms(sc, sr, rc, rr, q, beta, grad_scale, P, average, nc, nr);
    z[i] = (float)t.z;
    if (chosen) chosen[i] = (float)t.chosen_reward;
    if (rejected) rejected[i] = (float)t.rejected_reward;
    pair_loss[i] = t.loss;
    coef[i] = (float)t.coef_chosen;
    coef[i + P] = (float)t.coef_rejected;
}

// The pair math over pairs [pair_begin, pair_end) on the host.
static inline void host_pair_math(int64_t P, int64_t pair_begin, int64_t pair_end, const double* seq_sum,
                                  const int64_t* seq_count, const float* ref_logps, const float* targets, float beta,
                                  int average, float grad_scale, float* logps, float* z, float* chosen,
                                  float* rejected, double* pair_loss, float* coef) {
    for (int64_t i = pair_begin; i < pair_end; ++i)
        pair_step(i, P, seq_sum, seq_count, ref_logps[i], ref_logps[i + P], targets ? (double)targets[i] : 1.0, beta, average,
                  grad_scale, logps, z, chosen, rejected, pair_loss, coef);
}

// --- element helpers ------------------------------------------------------------------------------

// Label i of an int32 or int64 label array.
DNO_HD static inline int64_t label_at(const void* labels, bool labels64, int64_t i) {
    return labels64 ? ((const int64_t*)labels)[i] : (int64_t)((const int32_t*)labels)[i];
}

// A label that counts must be a token id.
DNO_HD static inline bool label_in_range(int64_t label, int64_t vocab) { return label >= 0 && label < vocab; }

static inline float bf16_bits_to_float(uint16_t bits) {
    const uint32_t wide = (uint32_t)bits << 16;
    float f;
    memcpy(&f, &wide, 4);
    return f;
}

// Round to nearest even; for finite inputs only (branch-free, so that the row kernels vectorise).
static inline uint16_t float_to_bf16_bits_finite(float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

// Round to nearest even; infinities and NaNs keep their class (no rounding into the exponent).
static inline uint16_t float_to_bf16_bits(float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    if ((bits & 0x7F800000u) == 0x7F800000u) return (uint16_t)(bits >> 16);
    return float_to_bf16_bits_finite(v);
}

// Element i of a float32, bfloat16 or float16 array, as float32 (host code).
static inline float load_as_float(int dtype, const void* base, int64_t i) {
    if (dtype == DNO_F32) return ((const float*)base)[i];
    if (dtype == DNO_F16) return (float)((const _Float16*)base)[i];
    return bf16_bits_to_float(((const uint16_t*)base)[i]);
}

// Stores v as element i of a float32, bfloat16 or float16 array (host code).
static inline void store_from_float(int dtype, void* base, int64_t i, float v) {
    if (dtype == DNO_F32) ((float*)base)[i] = v;
    else if (dtype == DNO_F16) ((_Float16*)base)[i] = (_Float16)v;
    else ((uint16_t*)base)[i] = float_to_bf16_bits(v);
}

// Bytes of one element of a float32, bfloat16 or float16 array.
static inline int64_t float_dtype_bytes(int dtype) { return dtype == DNO_F32 ? 4 : 2; }

}  // namespace dno

#endif
