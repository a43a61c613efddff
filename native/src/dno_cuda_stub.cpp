// Built instead of dno_loss_cuda.cu when no CUDA compiler was found: every CUDA entry point
// reports DNO_E_NO_CUDA, so callers fall back to the CPU path with a clear message.
#include "cuda_workspace.h"
#include "dno_internal.h"

namespace {
int no_cuda() { return dno::fail(DNO_E_NO_CUDA, "libdnonative was built without CUDA (nvcc was not found)"); }
}  // namespace

// The same layout as the CUDA build's, so that callers size buffers alike on every build.
extern "C" int64_t dno_loss_cuda_workspace_size(int64_t sequences, int64_t seq_len) {
    return dno::LossWorkspace(sequences, seq_len).bytes;
}
extern "C" int dno_loss_cuda(int64_t, int64_t, int64_t, int, const void*, int, const void*, int64_t, const float*,
                             const float*, float, int, float, float*, float*, float*, float*, float*, void*,
                             int32_t*, void*, void*) { return no_cuda(); }
extern "C" int dno_fused_linear_cuda(int64_t, int64_t, int64_t, int64_t, int, const void*, const void*, const void*,
                                     int, const void*, int64_t, const float*, const float*, float, int, float, float*,
                                     float*, float*, float*, float*, void*, void*, void*, int, int64_t, int64_t*,
                                     int32_t*, void*) { return no_cuda(); }
extern "C" int dno_cuda_device_count(int* count) { *count = 0; return DNO_OK; }
extern "C" int dno_cuda_malloc(void**, int64_t) { return no_cuda(); }
extern "C" int dno_cuda_free(void*) { return no_cuda(); }
extern "C" int dno_cuda_memcpy_to_device(void*, const void*, int64_t) { return no_cuda(); }
extern "C" int dno_cuda_memcpy_to_host(void*, const void*, int64_t) { return no_cuda(); }
extern "C" int dno_cuda_memset(void*, int, int64_t, void*) { return no_cuda(); }
extern "C" int dno_cuda_stream_synchronize(void*) { return no_cuda(); }
extern "C" int dno_cuda_read_status(const int32_t*, void*, int32_t*) { return no_cuda(); }
extern "C" int dno_cuda_async_pool_peak(int64_t*, int) { return no_cuda(); }
