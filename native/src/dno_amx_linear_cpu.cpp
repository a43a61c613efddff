// dno_amx_linear_cpu: y = x W^T (+ b) for many rows on Intel AMX, accurate to about float32.
//
// Why: a float32 GEMM on one core is bound by its FMA units (here ~120-145 GFLOP/s in OpenBLAS and
// MKL), while AMX's bf16 tiles multiply several times faster. bf16 alone rounds every input to 8
// bits of mantissa (a 2.4e-3 relative error in a product: too coarse for the log-probs that enter
// the DNO loss and its reference). So each float32 value v is split into two bf16 parts,
// hi = bf16(v) and lo = bf16(v - hi), which together carry 16 bits of its mantissa, and
//   x w = x_hi w_hi + x_hi w_lo + x_lo w_hi   (+ x_lo w_lo, below float32's precision: dropped)
// three bf16 tile products accumulated in float32 ("bf16x3"). Measured error against float64:
// ~5e-6 of the largest output on random products (float32 BLAS: ~5e-7), and 3.2x the bf16
// work still runs at about 250 GFLOP/s of float32-equivalent work per core.
//
// Layouts (all bf16 as uint16):
//   packed weight: for each 16-column tile nt and 32-deep k tile kt, a "B" tile of 16 rows (k
//     pairs) x 16 columns x 2 (AMX's VNNI order), hi then lo: ((nt*KT + kt)*2 + part) * 512
//     elements; columns padded to a multiple of 32, depth to 32, with zeros.
//   packed x (per call, thread-local scratch): for each 16-row tile mt and k tile kt, an "A" tile
//     of 16 rows x 32 values, hi then lo; rows padded to a multiple of 32.
// A block is 32 rows x 32 columns: four float32 accumulator tiles (tmm0-3); tmm4-7 hold inputs.
// Each output element is computed by one block, over k in a fixed order: bitwise the same result
// for every thread count and run.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "cpu_rows.h"
#include "cpu_share_pool.h"
#include "dno_internal.h"

namespace dno {
namespace amx {

constexpr int64_t kTile = 512;        // bf16 elements in one 16 x 32 tile (1 KiB)
constexpr int64_t kRowChunk = 8;      // row-tile pairs per work block: 256 rows
constexpr int64_t kColChunk = 8;      // column-tile pairs per work block: 256 columns

struct TileConfig {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

// Whether AMX runs here: the CPU has AMX-TILE and AMX-BF16 (and AVX-512 for the packing), the
// kernel grants this process the tile state (Linux asks for it once per process), and
// DNO_CPU_KERNELS does not pin an older instruction set (so that its tests run what they name).
struct Availability {
    bool ok = false;
    std::string why;
};

Availability probe() {
    Availability a;
    const char* env = std::getenv("DNO_CPU_KERNELS");
    const std::string wanted = env ? env : "";
    if (!wanted.empty() && wanted != "auto" && wanted != "avx512") {
        a.why = "DNO_CPU_KERNELS=" + wanted + " selects kernels without AMX";
        return a;
    }
    const char* off = std::getenv("DNO_AMX");
    if (off && std::string(off) == "off") {
        a.why = "DNO_AMX=off";
        return a;
    }
    __builtin_cpu_init();
    unsigned eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(0));
    const bool tile = (edx >> 24) & 1, bf16 = (edx >> 22) & 1;
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    if (!tile || !bf16 || !avx512) {
        a.why = "this CPU has no AMX-BF16 tiles";
        return a;
    }
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
        a.why = "the operating system does not grant the AMX tile state";
        return a;
    }
    a.ok = true;
    return a;
}

const Availability& availability() {
    static const Availability a = probe();
    return a;
}

// 8 tiles of 16 rows x 64 bytes, loaded at the start of every work block: not once per thread,
// because other code on the same thread may release the tile state in between (oneDNN's AMX
// kernels in libtorch end with TILERELEASE, e.g. a bf16 matmul under autocast), after which a
// tile instruction faults (SIGILL). One LDTILECFG per block of up to 256 x 256 outputs costs nothing.
void configure_tiles() {
    TileConfig c;
    std::memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < 8; ++i) {
        c.colsb[i] = 64;
        c.rows[i] = 16;
    }
    _tile_loadconfig(&c);
}

// Round to nearest even, float32 -> bf16 bits (in the low half of each 32-bit lane). Inputs are
// finite (the callers' tensors are checked upstream; a NaN stays a NaN, an overflow becomes inf).
inline __m512i to_bf16(__m512 x) {
    const __m512i b = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    return _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(b, _mm512_set1_epi32(0x7fff)), lsb), 16);
}

inline void split16(__m512 x, uint16_t* hi, uint16_t* lo) {
    const __m512i h = to_bf16(x);
    const __m512 rest = _mm512_sub_ps(x, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi), _mm512_cvtepi32_epi16(h));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo), _mm512_cvtepi32_epi16(to_bf16(rest)));
}

inline __m512 load16(const float* p, int64_t valid) {
    if (valid >= 16) return _mm512_loadu_ps(p);
    if (valid <= 0) return _mm512_setzero_ps();
    return _mm512_maskz_loadu_ps((__mmask16)((1u << valid) - 1), p);
}

// Packs one 16-row tile of x (rows [mt*16, mt*16+16), zero beyond `rows`) for all k tiles.
void pack_x_tile(const float* x, int64_t rows, int64_t in, int64_t ld, int64_t mt, int64_t KT, uint16_t* out) {
    for (int64_t r = 0; r < 16; ++r) {
        const int64_t m = mt * 16 + r;
        for (int64_t kt = 0; kt < KT; ++kt) {
            uint16_t* hi = out + ((mt * KT + kt) * 2) * kTile + r * 32;
            uint16_t* lo = hi + kTile;
            for (int h = 0; h < 2; ++h) {
                const int64_t k0 = kt * 32 + h * 16;
                const __m512 v = m < rows ? load16(x + m * ld + k0, in - k0) : _mm512_setzero_ps();
                split16(v, hi + h * 16, lo + h * 16);
            }
        }
    }
}

// Packs the tiles (nt, kt) of the weight [out, in] (row stride ld) for column tiles [nt0, nt1)
// and k tiles [kt0, kt1) into dst, tile (nt, kt) at (((nt - nt0) * kstride + kt - kt0) * 2 + part)
// * kTile (the whole packed weight: nt0 = kt0 = 0, kstride = KT; a streamed panel: a few of each).
void pack_w_panel(const float* w, int64_t out, int64_t in, int64_t ld, int64_t nt0, int64_t nt1, int64_t kt0, int64_t kt1,
                  int64_t kstride, uint16_t* dst) {
    alignas(64) uint16_t hi[16][32], lo[16][32];
    for (int64_t nt = nt0; nt < nt1; ++nt)
        for (int64_t kt = kt0; kt < kt1; ++kt) {
            for (int n = 0; n < 16; ++n) {
                const int64_t col = nt * 16 + n;
                for (int h = 0; h < 2; ++h) {
                    const int64_t k0 = kt * 32 + h * 16;
                    const __m512 v = col < out ? load16(w + col * ld + k0, in - k0) : _mm512_setzero_ps();
                    split16(v, &hi[n][h * 16], &lo[n][h * 16]);
                }
            }
            // VNNI: B row k2 holds, for each column n, the pair (w[n][2 k2], w[n][2 k2 + 1])
            uint32_t* bh = reinterpret_cast<uint32_t*>(dst + (((nt - nt0) * kstride + kt - kt0) * 2) * kTile);
            uint32_t* bl = bh + kTile / 2;
            for (int k2 = 0; k2 < 16; ++k2)
                for (int n = 0; n < 16; ++n) {
                    std::memcpy(&bh[k2 * 16 + n], &hi[n][2 * k2], 4);
                    std::memcpy(&bl[k2 * 16 + n], &lo[n][2 * k2], 4);
                }
        }
}

// The same tiles from the weight's transpose: wt [in, out] (row stride ld), element (n, k) at
// wt[k * ld + n], so that a [K, N] operand (grad_hidden's lm_head) needs no transposed copy.
// Each pair of stored rows is read front to back over the panel's columns, with a prefetch four
// pairs ahead (a row's segment is too short for the hardware prefetcher to find): one column tile
// at a time read 64 bytes from each of 32 rows in turn and waited on memory (the 32000 x 512
// lm_head: 4.4 GB/s that way, 9.1 this way; C harness, 1 thread, 2026-12-03).
void pack_wt_panel(const float* wt, int64_t out, int64_t in, int64_t ld, int64_t nt0, int64_t nt1, int64_t kt0, int64_t kt1,
                   int64_t kstride, uint16_t* dst) {
    const __m512i low16 = _mm512_set1_epi32(0xffff);
    for (int64_t kt = kt0; kt < kt1; ++kt)
        for (int k2 = 0; k2 < 16; ++k2) {
            const int64_t row = kt * 32 + 2 * k2;
            for (int64_t nt = nt0; nt < nt1; ++nt) {
                const int64_t n0 = nt * 16;
                if (row + 9 < in) {
                    _mm_prefetch(reinterpret_cast<const char*>(wt + (row + 8) * ld + n0), _MM_HINT_T0);
                    _mm_prefetch(reinterpret_cast<const char*>(wt + (row + 9) * ld + n0), _MM_HINT_T0);
                }
                // VNNI: B row k2 holds, for each column n, the pair (w[n][2 k2], w[n][2 k2 + 1]) as one
                // 32-bit lane: the even row's bf16 in the low half, the odd row's in the high half
                __m512i* bh = reinterpret_cast<__m512i*>(dst + (((nt - nt0) * kstride + kt - kt0) * 2) * kTile);
                __m512i* bl = bh + kTile / 32;
                const __m512 v0 = row < in ? load16(wt + row * ld + n0, out - n0) : _mm512_setzero_ps();
                const __m512 v1 = row + 1 < in ? load16(wt + (row + 1) * ld + n0, out - n0) : _mm512_setzero_ps();
                const __m512i h0 = to_bf16(v0), h1 = to_bf16(v1);   // bf16 bits in each lane's low half
                const __m512 r0 = _mm512_sub_ps(v0, _mm512_castsi512_ps(_mm512_slli_epi32(h0, 16)));
                const __m512 r1 = _mm512_sub_ps(v1, _mm512_castsi512_ps(_mm512_slli_epi32(h1, 16)));
                const __m512i l0 = to_bf16(r0), l1 = to_bf16(r1);
                _mm512_storeu_si512(bh + k2, _mm512_or_si512(_mm512_and_si512(h0, low16), _mm512_slli_epi32(h1, 16)));
                _mm512_storeu_si512(bl + k2, _mm512_or_si512(_mm512_and_si512(l0, low16), _mm512_slli_epi32(l1, 16)));
            }
        }
}

// tmm0-3 += (tmm6, tmm7) x (tmm4, tmm5): one bf16 product on all four accumulators
inline void accumulate_four() {
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
}

// One 32 x 32 block over kts k tiles: row tiles a0, a1 and column tiles b0, b1 (each k tile 2 *
// kTile further on, hi then lo). Per k tile: x_hi w_hi, then x_lo w_hi, then x_hi w_lo, each on all
// four accumulators, which start at zero or, with load_c, from the block at c (a product streamed
// over k in pieces: tiles stored and loaded as float32, so the sum is the same as in one piece).
void block_range(const uint16_t* a0, const uint16_t* a1, const uint16_t* b0, const uint16_t* b1, int64_t kts, float* c,
                 int64_t ldc_bytes, bool load_c) {
    char* base = reinterpret_cast<char*>(c);
    if (load_c) {
        _tile_loadd(0, base, ldc_bytes);
        _tile_loadd(1, base + 64, ldc_bytes);
        _tile_loadd(2, base + 16 * ldc_bytes, ldc_bytes);
        _tile_loadd(3, base + 16 * ldc_bytes + 64, ldc_bytes);
    } else {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
    }
    for (int64_t kt = 0; kt < kts; ++kt) {
        const int64_t h = kt * 2 * kTile, l = h + kTile;
        _tile_loadd(4, b0 + h, 64);
        _tile_loadd(5, b1 + h, 64);
        _tile_loadd(6, a0 + h, 64);
        _tile_loadd(7, a1 + h, 64);
        accumulate_four();
        _tile_loadd(6, a0 + l, 64);
        _tile_loadd(7, a1 + l, 64);
        accumulate_four();
        _tile_loadd(4, b0 + l, 64);
        _tile_loadd(5, b1 + l, 64);
        _tile_loadd(6, a0 + h, 64);
        _tile_loadd(7, a1 + h, 64);
        accumulate_four();
    }
    _tile_stored(0, base, ldc_bytes);
    _tile_stored(1, base + 64, ldc_bytes);
    _tile_stored(2, base + 16 * ldc_bytes, ldc_bytes);
    _tile_stored(3, base + 16 * ldc_bytes + 64, ldc_bytes);
}

// One 32 x 32 block: row tiles mt, mt+1 and column tiles nt, nt+1, over all k tiles.
inline void block(const uint16_t* xp, const uint16_t* wp, int64_t KT, int64_t mt, int64_t nt, float* c, int64_t ldc_bytes) {
    block_range(xp + (mt * KT) * 2 * kTile, xp + ((mt + 1) * KT) * 2 * kTile, wp + (nt * KT) * 2 * kTile,
                wp + ((nt + 1) * KT) * 2 * kTile, KT, c, ldc_bytes, false);
}

// Writes a finished block into y (only its valid part), adding the bias.
void store_block(const float* blk, int64_t m0, int64_t n0, int64_t rows, int64_t out, const float* bias, float* y) {
    const int64_t mr = std::min<int64_t>(32, rows - m0), nc = std::min<int64_t>(32, out - n0);
    for (int64_t r = 0; r < mr; ++r) {
        float* dst = y + (m0 + r) * out + n0;
        const float* src = blk + r * 32;
        if (bias)
            for (int64_t n = 0; n < nc; ++n) dst[n] = src[n] + bias[n0 + n];
        else
            std::memcpy(dst, src, (size_t)nc * sizeof(float));
    }
}

std::vector<uint16_t>& scratch() {
    thread_local std::vector<uint16_t> buf;
    return buf;
}

}  // namespace amx
}  // namespace dno

namespace {

inline int64_t k_tiles(int64_t in) { return (in + 31) / 32; }
inline int64_t col_tiles(int64_t out) { return ((out + 31) / 32) * 2; }

}  // namespace

extern "C" int dno_amx_available(const char** why_not) {
    dno::clear_error();
    const dno::amx::Availability& a = dno::amx::availability();
    if (why_not) *why_not = a.ok ? "" : a.why.c_str();
    return a.ok ? 1 : 0;
}

extern "C" int64_t dno_amx_packed_weight_bytes(int64_t out_features, int64_t in_features) {
    if (out_features < 1 || in_features < 1) return -1;
    return col_tiles(out_features) * k_tiles(in_features) * 2 * dno::amx::kTile * (int64_t)sizeof(uint16_t);
}

namespace {

// Both packings: the weight as [out, in] (transposed = false) or as its transpose [in, out].
int pack_weight(int64_t out_features, int64_t in_features, const float* w, int64_t stride, void* packed,
                int num_threads, bool transposed) {
    using namespace dno;
    const char* fn = transposed ? "dno_amx_pack_weight_transposed" : "dno_amx_pack_weight";
    clear_error();
    try {
        // a row of the stored matrix is in_features long, or out_features long when transposed
        const int rc = transposed ? check_linear_shape(1, out_features, in_features, stride, "wt_row_stride", num_threads)
                                  : check_linear_shape(1, in_features, out_features, stride, "w_row_stride", num_threads);
        if (rc != DNO_OK) return rc;
        if (!w) return fail(DNO_E_INVALID_ARGUMENT, transposed ? "weight_t is NULL" : "weight is NULL");
        if (!packed) return fail(DNO_E_INVALID_ARGUMENT, "packed is NULL");
        if (!amx::availability().ok) return fail(DNO_E_UNSUPPORTED, "AMX is not available: " + amx::availability().why);
        const int64_t KT = k_tiles(in_features), NT = col_tiles(out_features);
        uint16_t* p = static_cast<uint16_t*>(packed);
        if (transposed)
            SharePool::instance().run(KT, share_helpers(num_threads), [&](int64_t kt) {
                amx::pack_wt_panel(w, out_features, in_features, stride, 0, NT, kt, kt + 1, KT,
                                   p + (kt * 2) * amx::kTile);
            });
        else
            SharePool::instance().run(NT, share_helpers(num_threads), [&](int64_t nt) {
                amx::pack_w_panel(w, out_features, in_features, stride, nt, nt + 1, 0, KT, KT,
                                  p + (nt * KT * 2) * amx::kTile);
            });
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, std::string("out of host memory in ") + fn);
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string(fn) + ": " + e.what());
    }
}

}  // namespace

extern "C" int dno_amx_pack_weight(int64_t out_features, int64_t in_features, const float* weight, int64_t w_row_stride,
                                   void* packed, int num_threads) {
    return pack_weight(out_features, in_features, weight, w_row_stride, packed, num_threads, false);
}

extern "C" int dno_amx_pack_weight_transposed(int64_t out_features, int64_t in_features, const float* weight_t,
                                              int64_t wt_row_stride, void* packed, int num_threads) {
    return pack_weight(out_features, in_features, weight_t, wt_row_stride, packed, num_threads, true);
}

extern "C" int dno_amx_linear(int64_t rows, int64_t in_features, int64_t out_features, const float* x,
                              int64_t x_row_stride, const void* packed_weight, const float* bias, float* y,
                              int num_threads) {
    using namespace dno;
    clear_error();
    try {
        if (int rc = check_linear_shape(rows, in_features, out_features, x_row_stride, "x_row_stride", num_threads); rc != DNO_OK)
            return rc;
        if (!x) return fail(DNO_E_INVALID_ARGUMENT, "x is NULL");
        if (!packed_weight) return fail(DNO_E_INVALID_ARGUMENT, "packed_weight is NULL");
        if (!y) return fail(DNO_E_INVALID_ARGUMENT, "y is NULL");
        if (!amx::availability().ok) return fail(DNO_E_UNSUPPORTED, "AMX is not available: " + amx::availability().why);
        const int64_t KT = k_tiles(in_features), NT = col_tiles(out_features);
        const int64_t MT = ((rows + 31) / 32) * 2;
        std::vector<uint16_t>& xs = amx::scratch();
        const size_t need = (size_t)(MT * KT * 2 * amx::kTile);
        if (xs.size() < need) xs.resize(need);
        uint16_t* xp = xs.data();
        const uint16_t* wp = static_cast<const uint16_t*>(packed_weight);
        const int helpers = share_helpers(num_threads);
        SharePool::instance().run(MT, helpers, [&](int64_t mt) {
            amx::pack_x_tile(x, rows, in_features, x_row_stride, mt, KT, xp);
        });
        // Work blocks: 256 rows x 256 columns; inside one, each row pair sweeps the block's column
        // pairs, whose weight panels (2 x 32 columns x in_features, hi and lo) stay in cache.
        const int64_t rowPairs = MT / 2, colPairs = NT / 2;
        const int64_t rowBlocks = (rowPairs + amx::kRowChunk - 1) / amx::kRowChunk;
        const int64_t colBlocks = (colPairs + amx::kColChunk - 1) / amx::kColChunk;
        SharePool::instance().run(rowBlocks * colBlocks, helpers, [&](int64_t b) {
            amx::configure_tiles();
            const int64_t rb = b / colBlocks, cb = b % colBlocks;
            alignas(64) float blk[32 * 32];
            const int64_t mpEnd = std::min(rowPairs, (rb + 1) * amx::kRowChunk);
            const int64_t cpEnd = std::min(colPairs, (cb + 1) * amx::kColChunk);
            for (int64_t mp = rb * amx::kRowChunk; mp < mpEnd; ++mp)
                for (int64_t cp = cb * amx::kColChunk; cp < cpEnd; ++cp) {
                    const int64_t m0 = mp * 32, n0 = cp * 32;
                    const bool full = m0 + 32 <= rows && n0 + 32 <= out_features && !bias;
                    if (full) {
                        amx::block(xp, wp, KT, mp * 2, cp * 2, y + m0 * out_features + n0, out_features * 4);
                    } else {
                        amx::block(xp, wp, KT, mp * 2, cp * 2, blk, 32 * 4);
                        amx::store_block(blk, m0, n0, rows, out_features, bias, y);
                    }
                }
        });
        return DNO_OK;
    } catch (const std::bad_alloc&) {
        return fail(DNO_E_OUT_OF_MEMORY, "out of host memory in dno_amx_linear");
    } catch (const std::exception& e) {
        return fail(DNO_E_INTERNAL, std::string("dno_amx_linear: ") + e.what());
    }
}

namespace dno {

// C = alpha x op(B) + beta C with op(B) streamed in panels: for each 256-column chunk of the output
// (a task), k in pieces of 16 tiles (512): pack that piece of the chunk's columns (512 KiB, so it
// stays in L2) and multiply every row by it, the accumulators kept in a float32 buffer between
// pieces. The whole of op(B) is never packed: for the lm_head's products at a few hundred rows,
// writing a packed copy of the 32000 x 512 matrix (64 MiB) and reading it back cost more than the
// products. Each output element is one task's, summed over k in the same order as dno_amx_linear:
// bitwise its result, for every thread count.
//   x [M, K] (row stride xs); b_is_nk: B is stored [N, K] (a weight), else [K, N]; row stride ldb.
int amx_gemm_streamed(int64_t M, int64_t N, int64_t K, const float* x, int64_t xs, const float* b, int64_t ldb,
                      bool b_is_nk, float alpha, float beta, float* C, int64_t ldc, int num_threads) {
    if (!amx::availability().ok) return fail(DNO_E_UNSUPPORTED, "AMX is not available: " + amx::availability().why);
    constexpr int64_t kChunkTiles = 16;   // column tiles per task (256 columns)
    constexpr int64_t kPieceTiles = 16;   // k tiles per packed piece (512)
    constexpr int64_t kAccCols = kChunkTiles * 16;
    const int64_t KT = k_tiles(K), NT = col_tiles(N), MT = ((M + 31) / 32) * 2, rowPairs = MT / 2;
    std::vector<uint16_t>& xbuf = amx::scratch();
    const size_t need = (size_t)(MT * KT * 2 * amx::kTile);
    if (xbuf.size() < need) xbuf.resize(need);
    uint16_t* xp = xbuf.data();
    const int helpers = share_helpers(num_threads);
    SharePool::instance().run(MT, helpers, [&](int64_t mt) { amx::pack_x_tile(x, M, K, xs, mt, KT, xp); });
    const int64_t chunks = (NT + kChunkTiles - 1) / kChunkTiles;
    std::atomic<bool> out_of_memory{false};
    SharePool::instance().run(chunks, helpers, [&](int64_t c) {
        // scratch per thread, grown on first use: a failed allocation on a helper thread must not
        // escape it (that would terminate the process), so it is recorded and the call fails
        thread_local std::vector<uint16_t> panel;
        thread_local std::vector<float> acc;
        try {
            if (panel.size() < (size_t)(kChunkTiles * kPieceTiles * 2 * amx::kTile))
                panel.resize((size_t)(kChunkTiles * kPieceTiles * 2 * amx::kTile));
            if (acc.size() < (size_t)(rowPairs * 32 * kAccCols)) acc.resize((size_t)(rowPairs * 32 * kAccCols));
        } catch (const std::bad_alloc&) {
            out_of_memory = true;
            return;
        }
        const int64_t nt0 = c * kChunkTiles, nt1 = std::min(NT, nt0 + kChunkTiles);   // an even count: NT is even
        for (int64_t kt0 = 0; kt0 < KT; kt0 += kPieceTiles) {
            const int64_t kt1 = std::min(KT, kt0 + kPieceTiles);
            if (b_is_nk) amx::pack_w_panel(b, N, K, ldb, nt0, nt1, kt0, kt1, kPieceTiles, panel.data());
            else amx::pack_wt_panel(b, N, K, ldb, nt0, nt1, kt0, kt1, kPieceTiles, panel.data());
            amx::configure_tiles();
            for (int64_t mp = 0; mp < rowPairs; ++mp)
                for (int64_t j = 0; j < (nt1 - nt0) / 2; ++j)
                    amx::block_range(xp + ((2 * mp) * KT + kt0) * 2 * amx::kTile, xp + ((2 * mp + 1) * KT + kt0) * 2 * amx::kTile,
                                     panel.data() + (2 * j * kPieceTiles) * 2 * amx::kTile,
                                     panel.data() + ((2 * j + 1) * kPieceTiles) * 2 * amx::kTile, kt1 - kt0,
                                     acc.data() + mp * 32 * kAccCols + j * 32, kAccCols * 4, kt0 > 0);
        }
        const int64_t n0 = nt0 * 16, n1 = std::min(N, nt1 * 16);
        for (int64_t r = 0; r < M; ++r) {
            float* dst = C + r * ldc;
            const float* src = acc.data() + r * kAccCols - n0;
            if (beta == 0.0f)
                for (int64_t n = n0; n < n1; ++n) dst[n] = alpha * src[n];
            else
                for (int64_t n = n0; n < n1; ++n) dst[n] = alpha * src[n] + beta * dst[n];
        }
    });
    if (out_of_memory) return fail(DNO_E_OUT_OF_MEMORY, "out of host memory for the streamed AMX product's scratch");
    return DNO_OK;
}

}  // namespace dno
