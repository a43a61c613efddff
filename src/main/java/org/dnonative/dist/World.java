package org.dnonative.dist;

import java.util.Map;
import java.util.function.Function;

/**
 * Where this process stands in a data-parallel run, read from the variables torchrun (and Slurm or
 * Kubernetes launchers that imitate it) set: {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}. Without {@code WORLD_SIZE} (or
 * with 1) the process runs alone. {@code TORCHELASTIC_USE_AGENT_STORE=True} means torchrun's agent
 * already hosts the store at MASTER_ADDR:MASTER_PORT, so rank 0 connects to it instead of hosting one.
 *
 * @param launched whether a launcher started this process (WORLD_SIZE, MASTER_ADDR and MASTER_PORT
 *                 set): then it joins a process group even alone (a world of 1, as torchrun
 *                 --nproc-per-node 1 gives, runs the same code as a larger one, e.g. NCCL on one GPU)
 */
public record World(int rank, int size, int localRank, int localSize, String masterAddr, int masterPort, boolean agentStore,
                    boolean launched) {
    public static final World SINGLE = new World(0, 1, 0, 1, "127.0.0.1", 0, false, false);

    public World {
        if (size < 1) throw new IllegalArgumentException("WORLD_SIZE must be at least 1, got " + size);
        if (rank < 0 || rank >= size) throw new IllegalArgumentException("RANK must be in [0, WORLD_SIZE=" + size + "), got " + rank);
        if (localSize < 1 || localRank < 0 || localRank >= localSize)
            throw new IllegalArgumentException("LOCAL_RANK must be in [0, LOCAL_WORLD_SIZE=" + localSize + "), got " + localRank);
        if (launched && (masterPort < 1 || masterPort > 65535))
            throw new IllegalArgumentException("MASTER_PORT must be in 1..65535, got " + masterPort);
    }

    public boolean distributed() { return size > 1; }
    public boolean isMain() { return rank == 0; }

    public static World fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** The world the variables describe; a missing or malformed one is named in the exception. */
    public static World fromEnvironment(Map<String, String> env) {
        Function<String, String> get = k -> {
            String v = env.get(k);
            return v == null || v.isBlank() ? null : v.trim();
        };
        String ws = get.apply("WORLD_SIZE");
        if (ws == null) return SINGLE;
        int size = integer(get, "WORLD_SIZE", null);
        if (size < 1) throw new IllegalArgumentException("WORLD_SIZE must be at least 1, got " + size);
        // WORLD_SIZE=1 alone (no master): a launcher's default for one process, which joins nothing
        if (size == 1 && (get.apply("MASTER_ADDR") == null || get.apply("MASTER_PORT") == null)) return SINGLE;
        int rank = integer(get, "RANK", null);
        int localRank = integer(get, "LOCAL_RANK", rank);
        int localSize = integer(get, "LOCAL_WORLD_SIZE", size);
        String addr = get.apply("MASTER_ADDR");
        if (addr == null) throw new IllegalArgumentException("MASTER_ADDR is not set (WORLD_SIZE=" + size + ")");
        int port = integer(get, "MASTER_PORT", null);
        boolean agent = "true".equalsIgnoreCase(get.apply("TORCHELASTIC_USE_AGENT_STORE"));
        return new World(rank, size, localRank, localSize, addr, port, agent, true);
    }

    private static int integer(Function<String, String> get, String name, Integer fallback) {
        String v = get.apply(name);
        if (v == null) {
            if (fallback == null) throw new IllegalArgumentException(name + " is not set (WORLD_SIZE is)");
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " is not an integer: '" + v + "'");
        }
    }

    /** The device of this rank: a bare "cuda" in a distributed run is cuda:LOCAL_RANK (one process per GPU); anything else as given. */
    public String deviceFor(String configured) {
        return launched && "cuda".equals(configured) ? "cuda:" + localRank : configured;
    }

    /** "rank R of N", as messages name a process. */
    public String label() {
        return "rank " + rank + " of " + size;
    }
}
