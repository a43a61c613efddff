package org.dnonative.dist;

import java.util.ArrayList;
import java.util.List;

/**
 * Which chunks of a list of work items a rank does: chunk c (items [c*chunk, (c+1)*chunk)) belongs to
 * rank c mod world. Stages shard by the chunks they already batch by (a sampling batch, a judging
 * batch), so each chunk is computed exactly as a single process computes it, and the results do not
 * depend on the number of processes.
 */
public record Shard(int rank, int world) {
    public static final Shard WHOLE = new Shard(0, 1);

    public Shard {
        if (world < 1 || rank < 0 || rank >= world) throw new IllegalArgumentException("rank " + rank + " of " + world);
    }

    public boolean owns(int chunkIndex) {
        return chunkIndex % world == rank;
    }

    /** The item indices this rank does, of {@code n} items in chunks of {@code chunk}, in order. */
    public List<Integer> items(int n, int chunk) {
        if (chunk < 1) throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
        List<Integer> out = new ArrayList<>();
        for (int from = 0, c = 0; from < n; from += chunk, c++)
            if (owns(c)) for (int i = from; i < Math.min(n, from + chunk); i++) out.add(i);
        return out;
    }
}
