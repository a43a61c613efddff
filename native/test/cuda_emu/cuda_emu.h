// A CPU emulation of the small part of CUDA that dno-native's kernels use, so that the real
// kernel sources (native/src/*.cu) can run and be tested on machines without a GPU.
//
// Each launch runs its blocks one after another; a block's threads are fibers (ucontext) on the
// calling thread, switched at __syncthreads() and warp shuffles, so barriers and shuffles have
// their CUDA meaning. The scheduler reports what real hardware would leave undefined: a
// __syncthreads() that not every live thread reaches, and a full-mask shuffle that some lanes of
// the warp do not join. "Device" memory is host memory; streams run in order, synchronously.
//
// What it cannot show: speed, the memory model between concurrently running blocks, and the
// numerics of the fast-math intrinsics (they map to the libm functions). It is a test tool and is
// never part of the shipped library.
#ifndef DNO_CUDA_EMU_H
#define DNO_CUDA_EMU_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <cstdint>
#include <functional>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// Blocks run one at a time, so one static copy per kernel is each block's shared memory.
#define __shared__ static

// --- types ---------------------------------------------------------------------------------
struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct uint4 { unsigned x, y, z, w; };
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }

extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;

struct __nv_bfloat16 { uint16_t bits; };
struct __half { uint16_t bits; };

inline float emu_bits_to_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
inline uint32_t emu_float_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

inline float __bfloat162float(__nv_bfloat16 h) { return emu_bits_to_float((uint32_t)h.bits << 16); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    const uint32_t u = emu_float_to_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return __nv_bfloat16{(uint16_t)((u >> 16) | 0x40)};  // quiet NaN
    return __nv_bfloat16{(uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};                 // nearest even
}
inline float __half2float(__half h) {
    _Float16 v;
    memcpy(&v, &h.bits, 2);
    return (float)v;
}
inline __half __float2half_rn(float f) {
    const _Float16 v = (_Float16)f;  // IEEE round to nearest even
    __half h;
    memcpy(&h.bits, &v, 2);
    return h;
}

// --- intrinsics ----------------------------------------------------------------------------
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
template <typename T> inline T __ldg(const T* p) { return *p; }
inline int atomicOr(int* p, int v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }

namespace emu {
void syncthreads();
// Publishes this lane's value, waits for the whole warp, returns lane (own ^ lane_mask)'s value.
uint64_t shfl_xor_raw(unsigned mask, uint64_t value, int lane_mask);
void run_grid(unsigned grid, unsigned block, const std::function<void()>& thread_body, const char* kernel);
}  // namespace emu

inline void __syncthreads() { emu::syncthreads(); }
template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    uint64_t raw = 0;
    memcpy(&raw, &v, sizeof(T));
    raw = emu::shfl_xor_raw(mask, raw, lane_mask);
    T out;
    memcpy(&out, &raw, sizeof(T));
    return out;
}

// --- runtime API ---------------------------------------------------------------------------
enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorLaunchFailure = 719
};
using cudaError = cudaError_t;
enum cudaMemcpyKind { cudaMemcpyHostToHost = 0, cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2,
                      cudaMemcpyDeviceToDevice = 3, cudaMemcpyDefault = 4 };
struct CUstream_st;
using cudaStream_t = CUstream_st*;
enum cudaDataType { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 };
struct CUmemPoolHandle_st;
using cudaMemPool_t = CUmemPoolHandle_st*;
enum cudaMemPoolAttr { cudaMemPoolAttrUsedMemCurrent = 7, cudaMemPoolAttrUsedMemHigh = 8 };

cudaError_t cudaGetLastError();
const char* cudaGetErrorName(cudaError_t err);
const char* cudaGetErrorString(cudaError_t err);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t stream);
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
// The default pool counts what cudaMallocAsync holds, like CUDA's used-memory attributes.
cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device);
cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value);
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value);

namespace emu {
// kernel<<<grid, block, smem, stream>>>(args) is rewritten to emu::launch("kernel", kernel, grid, block, smem, stream)(args)
// by rewrite_launches.cmake.
template <typename... Params> struct Launch {
    void (*kernel)(Params...);
    dim3 grid, block;
    const char* name;
    template <typename... Args> void operator()(Args&&... args) const {
        run_grid(grid.x * grid.y * grid.z, block.x * block.y * block.z, [&] { kernel(args...); }, name);
    }
};
template <typename... Params>
Launch<Params...> launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t = 0,
                         cudaStream_t = nullptr) {
    return Launch<Params...>{kernel, grid, block, name};
}
}  // namespace emu

#endif
