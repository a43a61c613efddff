// Which build of the per-row CPU kernels runs (cpu_rows.h): the best one this CPU supports, or
// the one the environment variable DNO_CPU_KERNELS names (auto, baseline, avx2, avx512), so that
// every build can be tested on one machine. Decided once per process.
#include <cstdlib>
#include <string>

#include "cpu_rows.h"
#include "dno_internal.h"

namespace dno {
namespace {

struct Selection {
    RowKernels kernels;
    std::string error;  // non-empty when DNO_CPU_KERNELS asks for what cannot run here
};

Selection select_row_kernels() {
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                      __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
    std::string supported = "baseline";
    if (avx2) supported += ", avx2";
    if (avx512) supported += ", avx512";

    const char* env = std::getenv("DNO_CPU_KERNELS");
    std::string wanted = env ? env : "";
    if (wanted.empty() || wanted == "auto") wanted = avx512 ? "avx512" : avx2 ? "avx2" : "baseline";

    Selection s;
    if (wanted == "baseline") {
        s.kernels = dno_generic::kernels();
    } else if (wanted == "avx2" && avx2) {
        s.kernels = dno_avx2::kernels();
    } else if (wanted == "avx512" && avx512) {
        s.kernels = dno_avx512::kernels();
    } else if (wanted == "avx2" || wanted == "avx512") {
        s.error = "DNO_CPU_KERNELS=" + wanted + " asks for row kernels this CPU cannot run (" +
                  (wanted == "avx2" ? "AVX2, FMA, F16C, BMI2" : "AVX-512 F, BW, VL, DQ") +
                  "); it supports " + supported;
        return s;
    } else {
        s.error = "DNO_CPU_KERNELS=" + wanted + " is not one of auto, baseline, avx2, avx512 (this CPU supports " +
                  supported + ")";
        return s;
    }
    s.kernels.isa = wanted == "baseline" ? "baseline" : wanted == "avx2" ? "avx2" : "avx512";
    return s;
}

}  // namespace

int active_row_kernels(const RowKernels** kernels) {
    static const Selection chosen = select_row_kernels();
    if (!chosen.error.empty()) return fail(DNO_E_INVALID_ARGUMENT, chosen.error);
    *kernels = &chosen.kernels;
    return DNO_OK;
}

}  // namespace dno

extern "C" int dno_cpu_kernels(const char** name) {
    dno::clear_error();
    if (!name) return dno::fail(DNO_E_INVALID_ARGUMENT, "name is NULL");
    const dno::RowKernels* k = nullptr;
    const int rc = dno::active_row_kernels(&k);
    if (rc != DNO_OK) return rc;
    *name = k->isa;
    return DNO_OK;
}
