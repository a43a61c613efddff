package org.dnonative.dist;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Device;
import org.dnonative.dno.store.RunStore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * What the stages of a run see of the other processes: this rank, its {@link Shard}, and the few
 * exchanges a data-parallel DNO run needs (gather a stage's results, sum numbers, wait for rank 0),
 * each of which also agrees on failure: when the work of any rank throws, every rank throws, the
 * failed one its own exception and the others one that names it, instead of hanging in the next
 * collective. A single process ({@link #single()}) does the same with no communication.
 */
public final class Cluster implements AutoCloseable {
    /** How long ranks wait for rank 0 to finish a stage it does alone (the watchdog guards their liveness meanwhile). */
    private static final Duration WAIT_FOR_MAIN = Duration.ofDays(7);

    private final World world;
    private final Group group;
    private final Watchdog watchdog;
    private boolean closed;

    private Cluster(World world, Group group, Watchdog watchdog) {
        this.world = world;
        this.group = group;
        this.watchdog = watchdog;
    }

    public static Cluster single() {
        return new Cluster(World.SINGLE, null, null);
    }

    /** Joins the group that {@code world} describes (a single process when it has one rank). */
    public static Cluster join(World world, Backend backend, Device device, Duration timeout) {
        if (!world.launched()) return single();
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("--dist-timeout must be positive, got " + timeout);
        Group g = Group.join(world, backend, device, timeout);
        Watchdog w = new Watchdog(world, timeout, System.err);
        g.barrier("starting the watchdogs");
        w.start();
        return new Cluster(world, g, w);
    }

    public World world() { return world; }
    public int rank() { return world.rank(); }
    public int size() { return world.size(); }
    public boolean isMain() { return world.isMain(); }
    public boolean distributed() { return group != null; }
    public Shard shard() { return new Shard(world.rank(), world.size()); }
    /** The process group (null for a single process). */
    public Group group() { return group; }

    public void barrier(String what) {
        if (group != null) group.barrier(what);
    }

    /** Rank 0's value, on every rank (decisions all ranks must take alike, e.g. whether a stage is done). */
    public boolean agree(boolean value, String what) {
        if (group == null) return value;
        byte[][] all = group.allGatherBytes(new byte[] {(byte) (value ? 1 : 0)}, what);
        return all[0][0] == 1;
    }

    /**
     * Runs {@code work} on every rank and gives every rank the union of the results: each rank's map
     * from item index (0..n-1) to its result. Every index must come from exactly one rank.
     */
    public <T> List<T> gather(String what, int n, JavaType type, Supplier<Map<Integer, T>> work) {
        return gather(what, n, type, work, null);
    }

    private <T> List<T> gather(String what, int n, JavaType type, Supplier<Map<Integer, T>> work, Duration limit) {
        Map<Integer, T> mine = null;
        RuntimeException failure = null;
        try {
            mine = work.get();
        } catch (RuntimeException e) {
            if (group == null) throw e;
            failure = e;
        }
        Map<Integer, T> all = new TreeMap<>();
        if (group == null) {
            all.putAll(mine);
        } else {
            ObjectNode msg = RunStore.JSON.createObjectNode();
            if (failure != null) {
                msg.put("error", failure.getMessage() == null ? failure.toString() : failure.getMessage());
            } else {
                ArrayNode items = msg.putArray("items");
                for (Map.Entry<Integer, T> e : mine.entrySet()) items.addArray().add(e.getKey()).add(RunStore.JSON.valueToTree(e.getValue()));
            }
            byte[] bytes = msg.toString().getBytes(StandardCharsets.UTF_8);
            byte[][] parts = limit == null ? group.allGatherBytes(bytes, what) : group.allGatherBytes(bytes, what, limit);
            if (failure != null) throw failure;
            for (int r = 0; r < parts.length; r++) {
                JsonNode m = parse(parts[r], r, what);
                if (m.has("error")) throw new DistributedException("rank " + r + " failed in " + what + ": " + m.get("error").asText());
                for (JsonNode item : m.get("items")) {
                    int i = item.get(0).asInt();
                    T v;
                    try {
                        v = RunStore.JSON.treeToValue(item.get(1), type);
                    } catch (IOException e) {
                        throw new DistributedException(what + ": rank " + r + " sent an unreadable item " + i + ": " + e.getMessage(), e);
                    }
                    if (all.put(i, v) != null) throw new DistributedException(what + ": item " + i + " came from two ranks (the last: rank " + r + ")");
                }
            }
        }
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (!all.containsKey(i)) throw new DistributedException(what + ": no rank computed item " + i + " of " + n);
            out.add(all.get(i));
        }
        return out;
    }

    public <T> List<T> gather(String what, int n, Class<T> type, Supplier<Map<Integer, T>> work) {
        return gather(what, n, RunStore.JSON.getTypeFactory().constructType(type), work);
    }

    /** Each rank's {@code values}, summed element-wise (in rank order, so alike on every rank). */
    public double[] sum(double[] values, String what) {
        if (group == null) return values.clone();
        ObjectNode msg = RunStore.JSON.createObjectNode();
        ArrayNode a = msg.putArray("v");
        for (double v : values) a.add(v);
        byte[][] parts = group.allGatherBytes(msg.toString().getBytes(StandardCharsets.UTF_8), what);
        double[] out = new double[values.length];
        for (int r = 0; r < parts.length; r++) {
            JsonNode v = parse(parts[r], r, what).get("v");
            if (v == null || v.size() != values.length) throw new DistributedException(what + ": rank " + r + " sent " + v + ", expected " + values.length + " numbers");
            for (int i = 0; i < values.length; i++) out[i] += v.get(i).asDouble();
        }
        return out;
    }

    /** Every rank's string, by rank. */
    public List<String> allGather(String value, String what) {
        if (group == null) return List.of(value);
        List<String> out = new ArrayList<>();
        for (byte[] b : group.allGatherBytes(value.getBytes(StandardCharsets.UTF_8), what)) out.add(new String(b, StandardCharsets.UTF_8));
        return out;
    }

    /**
     * Runs {@code work} on rank 0 only; the others wait for it. When it throws, rank 0 rethrows and
     * the others throw an exception that names rank 0, so no rank hangs.
     */
    public void onMain(String what, Runnable work) {
        if (group == null) {
            work.run();
            return;
        }
        gather(what, 0, RunStore.JSON.getTypeFactory().constructType(String.class), () -> {
            if (isMain()) work.run();
            return Map.<Integer, String>of();
        }, WAIT_FOR_MAIN);
    }

    /**
     * {@code e} with the ranks named that stopped sending heartbeats during a short look (a
     * collective that failed because a peer died says only "connection closed"); {@code e} itself
     * when it is no distributed failure or no rank is silent.
     */
    public RuntimeException nameSilentRanks(RuntimeException e) {
        // only a failed collective (Group's message), not a failure another rank reported itself
        if (watchdog == null || !(e instanceof DistributedException) || e.getMessage() == null
                || !e.getMessage().contains("(another rank died")) return e;
        List<Integer> silent = watchdog.silentRanks(Duration.ofSeconds(2));
        if (silent.isEmpty()) return e;
        return new DistributedException(e.getMessage() + "; rank" + (silent.size() > 1 ? "s " : " ") + silent.toString().replaceAll("[\\[\\]]", "")
                + " sent no heartbeat in the last 2 s: " + (silent.size() > 1 ? "they" : "it") + " died or hung", e);
    }

    /** Tells the other ranks that this one fails (their watchdogs end them); a no-op alone. */
    public void reportFailure(String message) {
        if (watchdog != null) watchdog.reportFailure(message);
    }

    private static JsonNode parse(byte[] b, int rank, String what) {
        try {
            return RunStore.JSON.readTree(b);
        } catch (IOException e) {
            throw new DistributedException(what + ": rank " + rank + " sent unreadable data: " + e.getMessage(), e);
        }
    }

    /** Leaves the group: the watchdog stops, then a barrier (rank 0 hosts the store and must leave last). */
    @Override
    public void close() {
        if (closed || group == null) return;
        closed = true;
        watchdog.finish();
        group.barrier("leaving the group");
    }
}
