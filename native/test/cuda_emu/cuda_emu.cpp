// The CPU emulation of CUDA (see cuda_emu.h): the fiber scheduler behind kernel launches, and the
// runtime API over host memory.
#include "cuda_emu.h"

#include <ucontext.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

uint3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0};
dim3 blockDim{1, 1, 1}, gridDim{1, 1, 1};

namespace emu {
namespace {

constexpr int kWarp = 32;
constexpr size_t kStack = 64 * 1024;

enum class State { Runnable, AtSyncthreads, AtShuffle, Done };

struct Fiber {
    ucontext_t ctx;
    State state = State::Runnable;
    unsigned tid = 0;
    unsigned shuffle_mask = 0;
    uint64_t shuffles = 0;  // how many shuffles this lane has done: picks the exchange buffer
};

struct Grid {
    std::vector<Fiber> fibers;
    std::vector<char> stacks;
    std::vector<uint64_t> slots[2];  // per lane, double-buffered by shuffle parity
    const std::function<void()>* body = nullptr;
    Fiber* current = nullptr;
    ucontext_t scheduler;
};

Grid g;
std::mutex launch_mutex;  // one launch at a time: the grid state and the shared memory are global
cudaError_t last_error = cudaSuccess;

void trampoline() {
    (*g.body)();
    g.current->state = State::Done;  // returning resumes the scheduler through uc_link
}

void yield_to_scheduler() { swapcontext(&g.current->ctx, &g.scheduler); }

[[noreturn]] void misuse(const std::string& what) {
    // Inside a fiber there is no way back with an error code; this is a test tool, so stop loudly.
    std::fprintf(stderr, "cuda_emu: %s (block %u, thread %u)\n", what.c_str(), blockIdx.x, threadIdx.x);
    std::fflush(stderr);
    std::abort();
}

// Releases every barrier that all of its participants have reached. Returns false when the
// live fibers are all waiting and none can be released: a divergent barrier (a hang on a GPU).
bool release(unsigned block, std::string& why) {
    bool released = false;
    for (unsigned w0 = 0; w0 < block; w0 += kWarp) {
        const unsigned w1 = std::min<unsigned>(w0 + kWarp, block);
        unsigned at_shuffle = 0;
        for (unsigned t = w0; t < w1; ++t) at_shuffle += g.fibers[t].state == State::AtShuffle;
        if (at_shuffle == 0) continue;
        if (at_shuffle != w1 - w0) {
            why = "a full-mask __shfl_xor_sync that only " + std::to_string(at_shuffle) + " of the " +
                  std::to_string(w1 - w0) + " lanes of warp " + std::to_string(w0 / kWarp) + " reached";
            return false;
        }
        for (unsigned t = w0; t < w1; ++t) g.fibers[t].state = State::Runnable;
        released = true;
    }
    if (released) return true;
    unsigned live = 0, at_sync = 0;
    for (unsigned t = 0; t < block; ++t) {
        live += g.fibers[t].state != State::Done;
        at_sync += g.fibers[t].state == State::AtSyncthreads;
    }
    if (live == 0) return true;
    // Strict: every thread of the block must reach it; one that has exited counts as divergence
    // (CUDA allows __syncthreads() in conditional code only where the whole block takes it).
    if (at_sync == block) {
        for (unsigned t = 0; t < block; ++t) g.fibers[t].state = State::Runnable;
        return true;
    }
    why = "__syncthreads() reached by " + std::to_string(at_sync) + " of the block's " + std::to_string(block) +
          " threads (" + std::to_string(block - live) + " exited)";
    return false;
}

}  // namespace

void syncthreads() {
    g.current->state = State::AtSyncthreads;
    yield_to_scheduler();
}

uint64_t shfl_xor_raw(unsigned mask, uint64_t value, int lane_mask) {
    if (mask != 0xffffffffu) misuse("only full-mask shuffles are emulated");
    Fiber& f = *g.current;
    const unsigned lane = f.tid % kWarp;
    const unsigned other = (f.tid - lane) + (lane ^ (unsigned)lane_mask);
    if ((unsigned)lane_mask >= (unsigned)kWarp || other >= g.fibers.size()) misuse("shuffle source lane out of the warp");
    std::vector<uint64_t>& slot = g.slots[f.shuffles & 1];
    slot[f.tid] = value;
    f.state = State::AtShuffle;
    yield_to_scheduler();
    const uint64_t got = slot[other];
    ++f.shuffles;
    return got;
}

void run_grid(unsigned grid, unsigned block, const std::function<void()>& thread_body, const char* kernel) {
    std::lock_guard<std::mutex> lock(launch_mutex);
    if (block == 0 || block > 1024 || grid == 0) {
        std::fprintf(stderr, "cuda_emu: %s launched with grid %u, block %u\n", kernel, grid, block);
        last_error = cudaErrorInvalidValue;
        return;
    }
    g.fibers.assign(block, Fiber{});
    if (g.stacks.size() < block * kStack) g.stacks.resize(block * kStack);
    for (auto& s : g.slots) s.assign(block, 0);
    g.body = &thread_body;
    gridDim = dim3(grid);
    blockDim = dim3(block);
    for (unsigned b = 0; b < grid; ++b) {
        blockIdx = uint3{b, 0, 0};
        for (unsigned t = 0; t < block; ++t) {
            Fiber& f = g.fibers[t];
            f = Fiber{};
            f.tid = t;
            getcontext(&f.ctx);
            f.ctx.uc_stack.ss_sp = g.stacks.data() + t * kStack;
            f.ctx.uc_stack.ss_size = kStack;
            f.ctx.uc_link = &g.scheduler;
            makecontext(&f.ctx, trampoline, 0);
        }
        // The order in which a sweep runs the threads between barriers changes from block to block
        // (forward, backward, shuffled), so that a missing barrier shows as a wrong result whichever
        // thread it would have let run ahead.
        std::vector<unsigned> order(block);
        for (unsigned t = 0; t < block; ++t) order[t] = b % 3 == 1 ? block - 1 - t : t;
        if (b % 3 == 2) {
            uint64_t x = 0x9e3779b97f4a7c15ull * (b + 1);
            for (unsigned t = block - 1; t > 0; --t) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                std::swap(order[t], order[x % (t + 1)]);
            }
        }
        for (;;) {
            for (unsigned t : order) {
                Fiber& f = g.fibers[t];
                if (f.state != State::Runnable) continue;
                g.current = &f;
                threadIdx = uint3{t, 0, 0};
                swapcontext(&g.scheduler, &f.ctx);
            }
            bool done = true;
            for (const Fiber& f : g.fibers) done = done && f.state == State::Done;
            if (done) break;
            std::string why;
            if (!release(block, why)) {
                // The stranded fibers are simply dropped: their stacks hold nothing that needs freeing.
                std::fprintf(stderr, "cuda_emu: %s, block %u: %s; on a GPU this hangs or is undefined\n", kernel, b,
                             why.c_str());
                last_error = cudaErrorLaunchFailure;
                return;
            }
        }
    }
}

}  // namespace emu

// --- runtime API ---------------------------------------------------------------------------
cudaError_t cudaGetLastError() {
    const cudaError_t e = emu::last_error;
    emu::last_error = cudaSuccess;
    return e;
}

const char* cudaGetErrorName(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
        case cudaErrorNoDevice: return "cudaErrorNoDevice";
        case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    }
    return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
    return err == cudaErrorLaunchFailure ? "emulated kernel misbehaved (see stderr)" : "emulated CUDA error";
}

cudaError_t cudaGetDeviceCount(int* count) { *count = 1; return cudaSuccess; }
cudaError_t cudaGetDevice(int* device) { *device = 0; return cudaSuccess; }

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
    // 256-byte aligned like cudaMalloc, and exactly `bytes` long, so that a sanitizer build sees overruns.
    *ptr = nullptr;
    return posix_memalign(ptr, 256, bytes ? bytes : 1) == 0 ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void* ptr) { std::free(ptr); return cudaSuccess; }
namespace {
std::mutex pool_mutex;
std::map<void*, size_t> pool_blocks;
uint64_t pool_used = 0, pool_high = 0;
}  // namespace

cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t) {
    const cudaError_t err = cudaMalloc(ptr, bytes);
    if (err != cudaSuccess) return err;
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool_blocks[*ptr] = bytes;
    pool_used += bytes;
    pool_high = std::max(pool_high, pool_used);
    return cudaSuccess;
}
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t) {
    {
        std::lock_guard<std::mutex> lock(pool_mutex);
        auto it = pool_blocks.find(ptr);
        if (it == pool_blocks.end()) return cudaErrorInvalidValue;  // not from cudaMallocAsync
        pool_used -= it->second;
        pool_blocks.erase(it);
    }
    return cudaFree(ptr);
}
cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int) {
    *pool = reinterpret_cast<cudaMemPool_t>(&pool_blocks);
    return cudaSuccess;
}
cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t, cudaMemPoolAttr attr, void* value) {
    std::lock_guard<std::mutex> lock(pool_mutex);
    *(uint64_t*)value = attr == cudaMemPoolAttrUsedMemHigh ? pool_high : pool_used;
    return cudaSuccess;
}
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr attr, void* value) {
    if (attr != cudaMemPoolAttrUsedMemHigh || *(uint64_t*)value != 0) return cudaErrorInvalidValue;
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool_high = pool_used;
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
    if (bytes) std::memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t) {
    if (bytes) std::memset(ptr, value, bytes);
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
