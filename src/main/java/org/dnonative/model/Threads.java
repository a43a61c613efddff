package org.dnonative.model;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_full;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How this process uses CPU threads for the policy: {@code --threads N} means N Java threads that
 * each compute independent work (whole sampling batches, scoring batches) with single-threaded
 * libtorch ops and a single-threaded BLAS.
 *
 * <p>Why not libtorch's intra-op pool: the presets' libtorch runs its element-wise ops on GNU
 * OpenMP (libgomp, whose idle workers spin) and its float32 matrix products in OpenBLAS, built
 * with a pthreads pool of its own (whose idle workers spin too, yielding) that defaults to every
 * core. With both pools at 2 threads on 2 cores a decode step hands work back and forth between
 * 3-4 spinning threads: measured 2026-12-01 on the 2-core build machine, sampling the 39M-parameter
 * bench model fell from 114-139 tok/s (1 + 1 threads) to 7-34 tok/s with either pool at 2 threads,
 * at load 5-8 (benchmarks/RESULTS.md). Independent single-threaded workers never wait on each other
 * inside a step, so they add throughput while cores are free and only time-share when they are not.
 *
 * <p>Training splits a micro-batch's pairs over the workers (org.dnonative.train.SplitMicroBatch):
 * giving it the pools back for its large matrix products instead was measured slower still under
 * contention (a training step at 2 threads 7-21 s against 1.75 s at 1, load 5-8; docs/POLICY.md).
 *
 * <p>The OpenMP thread count is an attribute of the calling thread, so every thread that runs
 * libtorch ops must set it: the workers here do when they start, and {@link #configure} does it
 * for the caller (the thread that runs training and everything not split over workers).
 */
public final class Threads {
    private static volatile int count = 0;          // 0 = not configured yet
    private static final ThreadLocal<Boolean> WORKER = ThreadLocal.withInitial(() -> false);
    private static ExecutorService pool;
    private static int poolSize;

    private Threads() {}

    /**
     * Sets the number of compute threads (0 = every available processor) and makes libtorch and
     * OpenBLAS single-threaded on the calling thread. Call before the policy computes; calling it
     * again with another count is allowed (between computations).
     */
    public static synchronized void configure(int threads) {
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        singleThreadedHere();
        try {
            Loader.load(openblas_full.class);
            // one BLAS thread: parallelism comes from the workers; OpenBLAS's own pool would spin against them
            setBlasThreads(1);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            // another BLAS build (no openblas symbols): its threads are then the user's to set (OPENBLAS_NUM_THREADS)
        }
        count = n;
    }

    /** The configured compute threads; configures the default (every processor) on first use. */
    public static int count() {
        if (count == 0) configure(0);
        return count;
    }

    private static void setBlasThreads(int n) {
        try {
            openblas_full.openblas_set_num_threads(n);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            // not OpenBLAS: nothing to set
        }
    }

    /** Whether the calling thread is one of the compute workers (work it splits runs inline). */
    public static boolean isWorker() {
        return WORKER.get();
    }

    /** libtorch's OpenMP thread count of the calling thread set to one. */
    static void singleThreadedHere() {
        if (torch.get_num_threads() != 1) torch.set_num_threads(1);
    }

    /**
     * Runs the tasks, at most {@link #count()} at a time, and returns their results in order. With
     * one task or one thread everything runs on the caller. The first failure is rethrown (the other
     * tasks still finish first, so that no worker uses memory its caller is about to free).
     */
    public static <T> List<T> run(List<Callable<T>> tasks) {
        List<T> out = new ArrayList<>(tasks.size());
        int n = count();
        // a worker that runs tasks itself does so inline: waiting on the pool it occupies could deadlock it
        if (tasks.size() <= 1 || n == 1 || WORKER.get()) {
            singleThreadedHere();
            for (Callable<T> t : tasks) out.add(call(t));
            return out;
        }
        ExecutorService ex = executor(n);
        List<Future<T>> futures = new ArrayList<>();
        for (Callable<T> t : tasks) futures.add(ex.submit(t));
        Throwable first = null;
        for (Future<T> f : futures) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                if (first == null) first = e.getCause();
                out.add(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (first == null) first = new IllegalStateException("interrupted", e);
                out.add(null);
            }
        }
        if (first instanceof RuntimeException r) throw r;
        if (first instanceof Error e) throw e;
        if (first != null) throw new RuntimeException(first);
        return out;
    }

    private static <T> T call(Callable<T> t) {
        try {
            return t.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static synchronized ExecutorService executor(int n) {
        if (pool == null || poolSize != n) {
            if (pool != null) pool.shutdown();
            AtomicInteger id = new AtomicInteger();
            pool = Executors.newFixedThreadPool(n, r -> {
                Thread t = new Thread(() -> {
                    singleThreadedHere();
                    WORKER.set(true);
                    r.run();
                }, "dno-compute-" + id.incrementAndGet());
                t.setDaemon(true);   // idle workers never keep the JVM alive
                return t;
            });
            poolSize = n;
        }
        return pool;
    }

    /** Splits [0, n) into at most {@code parts} contiguous ranges of near-equal size: {from, to} pairs. */
    public static List<int[]> ranges(int n, int parts) {
        List<int[]> out = new ArrayList<>();
        int p = Math.max(1, Math.min(parts, n));
        for (int i = 0; i < p; i++) {
            int from = (int) ((long) n * i / p), to = (int) ((long) n * (i + 1) / p);
            if (to > from) out.add(new int[]{from, to});
        }
        return out;
    }
}
