package org.dnonative.dno;

import org.dnonative.dno.store.Pair;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Replay of earlier iterations' pairs: up to {@code fraction} × (new pairs) from iteration t-1,
 * {@code fraction·decay} × (new pairs) from t-2, and so on (the paper: 30%, 15%, ...), each drawn
 * without replacement by a seeded shuffle.
 */
public final class Replay {
    private Replay() {}

    /**
     * @param earlier earlier iterations' new pairs, most recent first (index 0 is iteration t-1)
     */
    public static List<Pair> select(List<List<Pair>> earlier, int newPairs, double fraction, double decay, long seed) {
        List<Pair> out = new ArrayList<>();
        double share = fraction;
        for (int j = 0; j < earlier.size(); j++, share *= decay) {
            int want = (int) Math.floor(share * newPairs + 1e-9);
            List<Pair> pool = new ArrayList<>(earlier.get(j));
            if (want <= 0 || pool.isEmpty()) continue;
            Collections.shuffle(pool, new Random(seed + 31L * j));
            out.addAll(pool.subList(0, Math.min(want, pool.size())));
        }
        return out;
    }
}
