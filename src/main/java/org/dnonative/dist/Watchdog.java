package org.dnonative.dist;

import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;

import java.io.PrintStream;
import java.time.Duration;

/**
 * Ends this process (exit 1, at once, like kill) when the run cannot go on: another rank reported a
 * failure, a rank has sent no heartbeat for longer than the run's timeout (it died, hung or was
 * stopped), or the store at rank 0 is gone. It covers what collectives cannot: a rank waiting while
 * rank 0 does a stage alone, and a peer that dies while this rank computes. A daemon thread with a
 * store connection of its own (a blocked collective or store call on the main thread holds that
 * connection's lock).
 *
 * <p>Halting is safe for the run directory: files and checkpoints are written atomically and stage
 * markers after them, so a halted run leaves no partial result, and {@code --resume} redoes only the
 * stage in progress.
 */
final class Watchdog implements Runnable {
    static final String FAILED = "dno/failed";
    private static final long INTERVAL_MS = 500;

    private final World world;
    private final Duration timeout;
    private final TCPStore store;
    private final PrintStream err;
    private final Thread thread;
    private volatile boolean stopped;

    Watchdog(World world, Duration timeout, PrintStream err) {
        this.world = world;
        this.timeout = timeout;
        this.err = err;
        this.store = new TCPStore(world.masterAddr(), Group.storeOptions(world, false, false, timeout));
        beat(0);
        this.thread = new Thread(this, "dno-watchdog");
        thread.setDaemon(true);
    }

    /**
     * How long a rank may be silent: half the run's timeout, so that a stopped rank is named by its
     * silence before the collectives it blocks time out (their error cannot say which rank is missing).
     */
    private long silence() {
        return Math.max(1_000_000_000L, timeout.toNanos() / 2);
    }

    static String heartbeat(int rank) { return "dno/hb/" + rank; }
    static String finished(int rank) { return "dno/finished/" + rank; }

    void start() { thread.start(); }

    private void beat(long n) {
        store.set(heartbeat(world.rank()), Long.toString(n));
    }

    /** Tells the other ranks that this one fails (they end within a heartbeat). */
    void reportFailure(String message) {
        try {
            store.set(FAILED, world.label() + ": " + message);
        } catch (RuntimeException ignored) {
            // the store is gone already: the others see that themselves
        }
    }

    /**
     * The other ranks whose heartbeat does not advance during {@code window} (they died or hang);
     * [0] when the store itself is gone (rank 0 hosts it). For naming the rank after a collective
     * failed, which Gloo reports only as a closed connection.
     */
    java.util.List<Integer> silentRanks(Duration window) {
        int n = world.size();
        java.util.List<Integer> out = new java.util.ArrayList<>();
        try {
            String[] before = new String[n];
            for (int r = 0; r < n; r++) if (r != world.rank()) before[r] = store.get_to_str(heartbeat(r));
            Thread.sleep(window.toMillis());
            for (int r = 0; r < n; r++)
                if (r != world.rank() && !store.check(new StringVector(finished(r))) && store.get_to_str(heartbeat(r)).equals(before[r])) out.add(r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (world.rank() != 0) out.add(0);
        }
        return out;
    }

    /** This rank is done: the others stop watching it. Stops the thread. */
    void finish() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            store.set(finished(world.rank()), "1");
        } catch (RuntimeException ignored) {
            // rank 0 (the store) left first: nothing to tell
        }
    }

    @Override
    public void run() {
        int n = world.size();
        String[] last = new String[n];
        long[] seen = new long[n];
        long now = System.nanoTime();
        java.util.Arrays.fill(seen, now);
        long beats = 1;
        while (!stopped) {
            try {
                Thread.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                if (stopped) return;
            }
            if (stopped) return;
            try {
                beat(beats++);
                if (store.check(new StringVector(FAILED))) halt("stopping: " + store.get_to_str(FAILED));
                now = System.nanoTime();
                for (int r = 0; r < n; r++) {
                    if (r == world.rank() || store.check(new StringVector(finished(r)))) continue;
                    String v = store.get_to_str(heartbeat(r));
                    if (!v.equals(last[r])) {
                        last[r] = v;
                        seen[r] = now;
                    } else if (now - seen[r] > silence()) {
                        String why = "rank " + r + " has sent no heartbeat for " + silence() / 1_000_000_000L
                                + " s (it died, hung or was stopped); ending the run";
                        reportFailure(why);
                        halt(why);
                    }
                }
            } catch (RuntimeException e) {
                if (stopped) return;
                halt("lost the store at " + world.masterAddr() + ":" + world.masterPort()
                        + " (rank 0 hosts it: it died or hung for more than " + timeout.toSeconds() + " s): " + Group.firstLine(e));
            }
        }
    }

    private void halt(String why) {
        err.println("error: " + world.label() + ": " + why);
        err.println("error: the run directory has no partial results; `train --resume DIR` continues it (with any number of processes)");
        err.flush();
        System.out.flush();
        Runtime.getRuntime().halt(1);
    }
}
