// Work sharing for short, frequent kernels (the decode step's products, ~50 calls per token):
// helper threads that persist between calls and join a call only if they are running.
#ifndef DNO_CPU_SHARE_POOL_H
#define DNO_CPU_SHARE_POOL_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dno {

// run(blocks, helpers, body) calls body(b) once for every b in [0, blocks): the calling thread
// claims blocks one at a time, and so do up to `helpers` pool threads that it wakes. Why not
// parallel_for: starting threads per call costs more than a small product, and a caller that
// waits for its threads collapses when the machine is oversubscribed (a thread not scheduled
// holds everyone up). Here a helper that has not woken when the blocks run out simply finds
// none left; the caller waits only for blocks a helper has already claimed. Which thread runs a
// block does not change what the block computes, so results do not depend on scheduling.
class SharePool {
public:
    static SharePool& instance() {
        static SharePool* pool = new SharePool();  // never destroyed: helpers may outlive main()
        return *pool;
    }

    void run(int64_t blocks, int helpers, const std::function<void(int64_t)>& body) {
        if (blocks <= 0) return;
        helpers = (int)std::min<int64_t>(helpers, blocks - 1);
        if (helpers <= 0) {
            for (int64_t b = 0; b < blocks; ++b) body(b);
            return;
        }
        std::lock_guard<std::mutex> serial(call_);  // one call at a time shares the helpers
        helpers = ensure(helpers);
        bool wake;
        {
            std::lock_guard<std::mutex> lk(m_);
            body_ = &body;
            blocks_ = blocks;
            ++generation_;
            next_.store((uint64_t)generation_ << 32, std::memory_order_release);
            done_.store(0, std::memory_order_relaxed);
            wanted_ = helpers;
            published_.store(generation_, std::memory_order_release);
            wake = sleepers_ > 0;
        }
        if (wake) cv_.notify_all();   // helpers still spinning from the last call see published_
        const int64_t mine = work(generation_, blocks, body);
        // blocks claimed by helpers may still be running: wait for those only
        while (mine + done_.load(std::memory_order_acquire) < blocks) std::this_thread::yield();
        std::lock_guard<std::mutex> lk(m_);
        body_ = nullptr;  // a helper that wakes now finds the generation gone
        wanted_ = 0;
    }

private:
    SharePool() = default;

    // Claims and runs blocks of `gen` until none are left; returns how many it ran.
    int64_t work(uint32_t gen, int64_t blocks, const std::function<void(int64_t)>& body) {
        int64_t ran = 0;
        uint64_t cur = next_.load(std::memory_order_acquire);
        for (;;) {
            if ((uint32_t)(cur >> 32) != gen || (int64_t)(cur & 0xffffffffu) >= blocks) return ran;
            if (!next_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) continue;
            body((int64_t)(cur & 0xffffffffu));
            ++ran;
            cur = next_.load(std::memory_order_acquire);
        }
    }

    // Starts helpers up to n (as many as the system gives); returns how many there are.
    int ensure(int n) {
        std::lock_guard<std::mutex> lk(m_);
        while ((int)threads_.size() < n) {
            try {
                threads_.emplace_back([this] { helper(); });
            } catch (const std::system_error&) {
                break;  // no more threads: the caller does the rest
            }
        }
        return std::min<int>(n, (int)threads_.size());
    }

    // A helper that has run a call waits for the next one spinning for up to kSpin before it
    // sleeps: a decode step's ~50 products come a few to a few tens of microseconds apart, and a
    // helper woken from sleep for each (a futex wake-up, 10-50 us) arrived after the caller had
    // claimed most of the blocks. The spin is bounded, so on a busy machine a helper gives its
    // core back within kSpin of its last work; the caller never waits for it either way.
    static constexpr std::chrono::microseconds kSpin{50};

    void helper() {
        uint32_t seen = 0;
        for (;;) {
            bool arrived = false;
            const auto until = std::chrono::steady_clock::now() + kSpin;
            for (int i = 0; !arrived; ++i) {
                arrived = published_.load(std::memory_order_acquire) != seen;
                if (!arrived && (i & 63) == 63 && std::chrono::steady_clock::now() >= until) break;
                if (!arrived) pause();
            }
            uint32_t gen;
            int64_t blocks;
            const std::function<void(int64_t)>* body;
            {
                std::unique_lock<std::mutex> lk(m_);
                auto ready = [&] { return generation_ != seen && body_ != nullptr && wanted_ > 0; };
                if (!ready()) {
                    if (arrived) {   // that call is over (or has its helpers): wait for the next
                        seen = generation_;
                        continue;
                    }
                    ++sleepers_;
                    cv_.wait(lk, ready);
                    --sleepers_;
                }
                seen = gen = generation_;
                blocks = blocks_;
                body = body_;
                --wanted_;
            }
            const int64_t ran = work(gen, blocks, *body);
            if (ran > 0) done_.fetch_add(ran, std::memory_order_acq_rel);
        }
    }

    static void pause() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }

    std::mutex call_, m_;
    std::condition_variable cv_;
    std::vector<std::thread> threads_;
    const std::function<void(int64_t)>* body_ = nullptr;
    int64_t blocks_ = 0;
    uint32_t generation_ = 0;
    int wanted_ = 0;
    int sleepers_ = 0;                        // helpers blocked on cv_ (under m_)
    std::atomic<uint32_t> published_{0};      // generation_, for spinning helpers
    std::atomic<uint64_t> next_{0};
    std::atomic<int64_t> done_{0};
};

}  // namespace dno

#endif
