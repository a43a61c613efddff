// Error reporting and argument checks shared by the CPU and CUDA paths.
#include <malloc.h>
#include <cmath>
#include <limits>
#include <string>

#include "dno_internal.h"

namespace dno {

static thread_local std::string last_error;

int fail(int status, const std::string& message) {
    last_error = message;
    return status;
}

void clear_error() { last_error.clear(); }

int check_ref_and_targets(int64_t pairs, const float* ref_logps, const float* targets) {
    for (int64_t n = 0; n < 2 * pairs; ++n)
        if (!std::isfinite(ref_logps[n]))
            return fail(DNO_E_NONFINITE, "ref_logps[" + std::to_string(n) + "] is not finite");
    if (targets)
        for (int64_t i = 0; i < pairs; ++i)
            if (!(targets[i] >= 0.0f && targets[i] <= 1.0f))
                return fail(DNO_E_TARGET_RANGE, "targets[" + std::to_string(i) + "] = " + std::to_string(targets[i]) +
                                                    " is outside [0,1]");
    return DNO_OK;
}

std::string position_name(int64_t row, int64_t seq_len) {
    return "[" + std::to_string(row / seq_len) + "," + std::to_string(row % seq_len) + "]";
}

int check_linear_shape(int64_t rows, int64_t in_features, int64_t out_features, int64_t x_row_stride,
                       const char* stride_name, int num_threads) {
    if (rows < 1) return fail(DNO_E_INVALID_ARGUMENT, "rows must be at least 1, got " + std::to_string(rows));
    if (in_features < 1)
        return fail(DNO_E_INVALID_ARGUMENT, "in_features must be at least 1, got " + std::to_string(in_features));
    if (out_features < 1)
        return fail(DNO_E_INVALID_ARGUMENT, "out_features must be at least 1, got " + std::to_string(out_features));
    if (x_row_stride < in_features)
        return fail(DNO_E_INVALID_ARGUMENT, std::string(stride_name) + " (" + std::to_string(x_row_stride) +
                                                ") is less than in_features (" + std::to_string(in_features) + ")");
    if (num_threads < 0) return fail(DNO_E_INVALID_ARGUMENT, "num_threads must be >= 0, got " + std::to_string(num_threads));
    return DNO_OK;
}

int fail_label_range(int64_t row, int64_t seq_len, int64_t label, int64_t vocab, int64_t ignore_index) {
    return fail(DNO_E_LABEL_RANGE, "labels" + position_name(row, seq_len) + " = " + std::to_string(label) +
                                       " is outside [0," + std::to_string(vocab) + ") and is not the ignore index " +
                                       std::to_string(ignore_index));
}

const char* dtype_name(int dtype) {
    switch (dtype) {
        case DNO_F32: return "float32";
        case DNO_BF16: return "bfloat16";
        case DNO_F16: return "float16";
        case DNO_I32: return "int32";
        case DNO_I64: return "int64";
        default: return "unknown";
    }
}

int check_common(int64_t pairs, int64_t seq_len, int64_t vocab, int logits_dtype, const void* logits,
                 int labels_dtype, const void* labels, const float* ref_logps, float beta,
                 float grad_scale, const float* loss, const float* logps, const float* z) {
    if (pairs <= 0) return fail(DNO_E_INVALID_ARGUMENT, "pairs must be > 0, got " + std::to_string(pairs));
    if (seq_len <= 0) return fail(DNO_E_INVALID_ARGUMENT, "seq_len must be > 0, got " + std::to_string(seq_len));
    if (vocab <= 0) return fail(DNO_E_INVALID_ARGUMENT, "vocab must be > 0, got " + std::to_string(vocab));
    // Element counts must fit in int64 with room for byte offsets.
    const double elements = 2.0 * (double)pairs * (double)seq_len * (double)vocab;
    if (elements > 1e18) return fail(DNO_E_INVALID_ARGUMENT, "logits too large: 2*pairs*seq_len*vocab overflows");
    if (logits_dtype != DNO_F32 && logits_dtype != DNO_BF16 && logits_dtype != DNO_F16)
        return fail(DNO_E_INVALID_ARGUMENT, std::string("logits dtype must be float32, bfloat16 or float16, got ") + dtype_name(logits_dtype));
    if (labels_dtype != DNO_I32 && labels_dtype != DNO_I64)
        return fail(DNO_E_INVALID_ARGUMENT, std::string("labels dtype must be int32 or int64, got ") + dtype_name(labels_dtype));
    if (!logits) return fail(DNO_E_INVALID_ARGUMENT, "logits is NULL");
    if (!labels) return fail(DNO_E_INVALID_ARGUMENT, "labels is NULL");
    if (!ref_logps) return fail(DNO_E_INVALID_ARGUMENT, "ref_logps is NULL");
    if (!loss) return fail(DNO_E_INVALID_ARGUMENT, "loss is NULL");
    if (!logps) return fail(DNO_E_INVALID_ARGUMENT, "logps is NULL");
    if (!z) return fail(DNO_E_INVALID_ARGUMENT, "z is NULL");
    if (!(beta > 0.0f) || !std::isfinite(beta))
        return fail(DNO_E_INVALID_ARGUMENT, "beta must be finite and > 0, got " + std::to_string(beta));
    if (!std::isfinite(grad_scale))
        return fail(DNO_E_INVALID_ARGUMENT, "grad_scale must be finite, got " + std::to_string(grad_scale));
    return DNO_OK;
}

}  // namespace dno

extern "C" const char* dno_last_error(void) { return dno::last_error.c_str(); }
extern "C" const char* dno_version(void) { return "dno-native 0.1.0"; }

extern "C" int dno_keep_freed_host_memory(void) {
    dno::clear_error();
#if defined(__GLIBC__)
    // Large blocks (libtorch's activations and gradients: tens of MB each) are otherwise mapped
    // fresh on every allocation and unmapped when freed, so each training step and scoring batch
    // page-faults and zeroes them again (clear_page was up to 29% of a training step, perf). Kept
    // in the heap instead: blocks are reused, the heap grows 256 MiB at a time and is never trimmed.
    if (mallopt(M_MMAP_MAX, 0) != 1 || mallopt(M_TRIM_THRESHOLD, 1 << 30) != 1 || mallopt(M_TOP_PAD, 256 << 20) != 1)
        return dno::fail(DNO_E_INTERNAL, "mallopt refused a setting");
    return DNO_OK;
#else
    return dno::fail(DNO_E_UNSUPPORTED, "the C library is not glibc: its allocator is left as it is");
#endif
}
