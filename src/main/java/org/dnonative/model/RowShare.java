package org.dnonative.model;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs body(c) for every chunk c of a short per-token step (the draws of a sampling batch's rows)
 * on the calling thread and on up to {@code helpers} helper threads, the Java side of the decode
 * kernel's work sharing (native/src/cpu_share_pool.h): the caller claims chunks itself, a helper
 * that has not started when the chunks run out finds none left, and the caller waits only for
 * chunks a helper has already claimed, so an oversubscribed machine never leaves it waiting for a
 * thread that is not scheduled. Which thread runs a chunk changes nothing a chunk computes.
 */
final class RowShare {
    private static final ExecutorService HELPERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dno-row-share");
        t.setDaemon(true);   // idle helpers never keep the JVM alive
        return t;
    });

    private RowShare() {}

    static void run(int chunks, int helpers, IntConsumer body) {
        helpers = Math.min(helpers, chunks - 1);
        if (helpers <= 0) {
            for (int c = 0; c < chunks; c++) body.accept(c);
            return;
        }
        AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        Throwable[] failure = new Throwable[1];
        Runnable worker = () -> {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    body.accept(c);
                } catch (Throwable e) {
                    synchronized (failure) { if (failure[0] == null) failure[0] = e; }
                } finally {
                    done.incrementAndGet();
                }
            }
        };
        for (int h = 0; h < helpers; h++) HELPERS.execute(worker);
        worker.run();
        while (done.get() < chunks) Thread.onSpinWait();   // only chunks a helper is running are left
        synchronized (failure) {
            if (failure[0] instanceof RuntimeException e) throw e;
            if (failure[0] instanceof Error e) throw e;
            if (failure[0] != null) throw new RuntimeException(failure[0]);
        }
    }
}
