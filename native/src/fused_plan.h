// Host-side planning of the fused-linear DNO loss, shared by the CPU and CUDA paths: which
// positions count, how they are laid out in the compact row block, and how the block is cut
// into chunks under the memory budget.
//
// Compact layout: pair by pair, the counted rows of chosen sequence i (in t order), then those of
// rejected sequence i+P. A group is a run of consecutive pairs done together:
//   single pass: all the group's rows fit one chunk (3 GEMMs: logits, grad_weight, grad_hidden);
//   two passes:  one pair whose rows exceed a chunk, cut into row chunks; pass A computes the
//                token log-probs, pass B recomputes the logits for the gradient (4 GEMMs).
#ifndef DNO_FUSED_PLAN_H
#define DNO_FUSED_PLAN_H

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dno_internal.h"

namespace dno {

struct FusedGroup {
    int64_t pair_begin, pair_end;  // pairs [pair_begin, pair_end)
    int64_t row_begin, row_end;    // compact rows [row_begin, row_end)
    bool two_pass;
};

struct FusedPlan {
    std::vector<int64_t> rows;       // compact row -> global row n*T + t
    std::vector<int64_t> row_label;  // compact row -> its label
    std::vector<int64_t> seq_begin;  // sequence n -> first compact row
    std::vector<int64_t> seq_count;  // sequence n -> counted positions
    std::vector<FusedGroup> groups;
    int64_t chunk_rows = 0;          // rows of the largest chunk actually used
    int64_t chunks = 0;              // GEMM chunks over both passes
    int64_t two_pass_pairs = 0;
};

// Checks the labels and builds the plan for chunks of at most max_rows rows.
inline int make_fused_plan(int64_t P, int64_t T, int64_t V, int labels_dtype, const void* labels,
                           int64_t ignore_index, int64_t max_rows, FusedPlan& plan) {
    const int64_t N = 2 * P;
    plan.seq_begin.assign(N, 0);
    plan.seq_count.assign(N, 0);
    const bool labels64 = labels_dtype == DNO_I64;
    int64_t total = 0;
    for (int64_t r = 0; r < N * T; ++r) {
        const int64_t lab = label_at(labels, labels64, r);
        if (lab == ignore_index) continue;
        if (!label_in_range(lab, V)) return fail_label_range(r, T, lab, V, ignore_index);
        plan.seq_count[r / T]++;
        ++total;
    }
    plan.rows.resize(total);
    plan.row_label.resize(total);
    int64_t at = 0;
    for (int64_t i = 0; i < P; ++i)
        for (int64_t n : {i, i + P}) {
            plan.seq_begin[n] = at;
            for (int64_t t = 0; t < T; ++t) {
                const int64_t lab = label_at(labels, labels64, n * T + t);
                if (lab == ignore_index) continue;
                plan.rows[at] = n * T + t;
                plan.row_label[at] = lab;
                ++at;
            }
        }
    // Greedy grouping of consecutive pairs.
    plan.groups.clear();
    FusedGroup open{0, 0, 0, 0, false};
    for (int64_t i = 0; i < P; ++i) {
        const int64_t b = plan.seq_begin[i];
        const int64_t rows = plan.seq_count[i] + plan.seq_count[i + P];
        if (rows > max_rows) {
            if (open.pair_end > open.pair_begin) plan.groups.push_back(open);
            plan.groups.push_back(FusedGroup{i, i + 1, b, b + rows, true});
            plan.two_pass_pairs++;
            open = FusedGroup{i + 1, i + 1, b + rows, b + rows, false};
            continue;
        }
        if (open.row_end - open.row_begin + rows > max_rows) {
            plan.groups.push_back(open);
            open = FusedGroup{i, i, b, b, false};
        }
        open.pair_end = i + 1;
        open.row_end = b + rows;
    }
    if (open.pair_end > open.pair_begin) plan.groups.push_back(open);
    plan.chunk_rows = 0;
    plan.chunks = 0;
    for (const FusedGroup& g : plan.groups) {
        const int64_t rows = g.row_end - g.row_begin;
        plan.chunk_rows = std::max(plan.chunk_rows, std::min(rows, max_rows));
        plan.chunks += (rows + max_rows - 1) / max_rows;
    }
    return DNO_OK;
}

}  // namespace dno

#endif
