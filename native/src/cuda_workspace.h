// Layouts of the CUDA losses' device workspaces: one struct per loss computes both the size and
// where each piece starts, so that sizing and carving cannot drift apart. Plain host C++ (no CUDA
// headers), so that the no-CUDA stub (dno_cuda_stub.cpp) reports the same sizes as the real build.
#ifndef DNO_CUDA_WORKSPACE_H
#define DNO_CUDA_WORKSPACE_H

#include <stdint.h>

namespace dno {

// Every piece starts on a 256-byte boundary (what cudaMalloc guarantees for the whole block).
static inline int64_t align256(int64_t bytes) { return (bytes + 255) / 256 * 256; }

// Hands out consecutive 256-byte-aligned byte offsets; `bytes` is the total so far.
struct WorkspaceCarver {
    int64_t bytes = 0;
    int64_t take(int64_t n) {
        const int64_t at = bytes;
        bytes += align256(n);
        return at;
    }
};

// dno_loss_cuda, for N sequences of T positions.
struct LossWorkspace {
    int64_t lse, tok;  // float [N*T]: each row's log-sum-exp and its label's log-prob
    int64_t counts;    // float [N]: counted positions per sequence
    int64_t coef;      // float [N]: per-sequence gradient coefficient
    int64_t seq;       // double [N]: sequence log-probs
    int64_t bytes;

    LossWorkspace(int64_t sequences, int64_t seq_len) {
        WorkspaceCarver c;
        lse = c.take(4 * sequences * seq_len);
        tok = c.take(4 * sequences * seq_len);
        counts = c.take(4 * sequences);
        coef = c.take(4 * sequences);
        seq = c.take(8 * sequences);
        bytes = c.bytes;
    }
};

// dno_fused_linear_cuda: `counted_rows` compact rows in all, chunks of at most `chunk_rows` rows,
// P pairs, hidden size H, vocab V, `elem_bytes` per element of hidden and weight.
struct FusedWorkspace {
    int64_t rows, labels;          // int64 [R]: compact row -> global row, and its label
    int64_t seq_begin, seq_count;  // int64 [N]
    int64_t lse, tok;              // float [R]
    int64_t seq_sum;               // double [N]
    int64_t coef;                  // float [N]
    int64_t pair_loss;             // double [P]
    int64_t bias_acc;              // float [V]: grad_bias accumulator
    int64_t hc;                    // [chunk_rows, H] in the dtype of hidden: gathered rows, then grad_hidden
    int64_t lc;                    // float [chunk_rows, V]: logits, then their gradient
    int64_t bytes;

    FusedWorkspace(int64_t counted_rows, int64_t chunk_rows, int64_t P, int64_t H, int64_t V, int64_t elem_bytes) {
        const int64_t N = 2 * P;
        WorkspaceCarver c;
        rows = c.take(8 * counted_rows);
        labels = c.take(8 * counted_rows);
        seq_begin = c.take(8 * N);
        seq_count = c.take(8 * N);
        lse = c.take(4 * counted_rows);
        tok = c.take(4 * counted_rows);
        seq_sum = c.take(8 * N);
        coef = c.take(4 * N);
        pair_loss = c.take(8 * P);
        bias_acc = c.take(4 * V);
        hc = c.take(elem_bytes * chunk_rows * H);
        lc = c.take(4 * chunk_rows * V);
        bytes = c.bytes;
    }

    // Bytes of one more chunk row (before alignment).
    static int64_t bytes_per_chunk_row(int64_t H, int64_t V, int64_t elem_bytes) { return 4 * V + elem_bytes * H; }

    // What the budget must hold besides the chunk rows: the workspace with every position
    // counted (an upper bound, known before the plan) and no chunk rows, plus the alignment
    // slack of the two chunk pieces.
    static int64_t fixed_bytes_bound(int64_t positions, int64_t P, int64_t H, int64_t V, int64_t elem_bytes) {
        return FusedWorkspace(positions, 0, P, H, V, elem_bytes).bytes + 2 * 256;
    }
};

}  // namespace dno

#endif
