package org.dnonative.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code train --nproc N}: N processes of this program on this machine, as {@code torchrun
 * --standalone --nproc-per-node N} starts them: the same command without {@code --nproc}, with
 * RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free MASTER_PORT, and
 * the CPU cores divided among them (OMP_NUM_THREADS). Every line they print comes out prefixed with
 * its rank. When one exits with a failure the others are stopped (SIGTERM, then SIGKILL after a
 * grace period: a stopped process ignores SIGTERM), and the launcher exits with the first failure's
 * status when that is 2 (bad input), else 1 (as torchrun does for a killed or crashed rank); it
 * exits 0 when all of them do.
 */
public final class Launcher {
    static final long GRACE_MS = 10_000;

    private Launcher() {}

    /** Runs {@code trainArgs} (the train command's arguments, without --nproc) on {@code n} ranks; returns the exit status. */
    public static int run(int n, List<String> trainArgs, PrintStream out, PrintStream err) throws IOException, InterruptedException {
        if (n < 1) throw new IllegalArgumentException("--nproc must be at least 1, got " + n);
        String ws = System.getenv("WORLD_SIZE");
        if (ws != null && !ws.isBlank())
            throw new IllegalArgumentException("--nproc inside a launched process (WORLD_SIZE=" + ws + " is set): use either --nproc or the launcher's variables");
        int port = freePort();
        List<Process> procs = new ArrayList<>();
        List<Thread> pumps = new ArrayList<>();
        Thread hook = new Thread(() -> procs.forEach(Process::destroyForcibly));
        Runtime.getRuntime().addShutdownHook(hook);
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / n);
        try {
            for (int r = 0; r < n; r++) {
                ProcessBuilder pb = new ProcessBuilder(command(trainArgs));
                Map<String, String> env = pb.environment();
                env.put("RANK", Integer.toString(r));
                env.put("LOCAL_RANK", Integer.toString(r));
                env.put("WORLD_SIZE", Integer.toString(n));
                env.put("LOCAL_WORLD_SIZE", Integer.toString(n));
                env.put("MASTER_ADDR", "127.0.0.1");
                env.put("MASTER_PORT", Integer.toString(port));
                env.putIfAbsent("OMP_NUM_THREADS", Integer.toString(threads));
                Process p = pb.start();
                procs.add(p);
                pumps.add(pump(p.getInputStream(), out, "[rank " + r + "] "));
                pumps.add(pump(p.getErrorStream(), err, "[rank " + r + "] "));
            }
            int status = waitAll(procs, err);
            for (Thread t : pumps) t.join(5000);
            return status;
        } finally {
            procs.forEach(Process::destroyForcibly);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // the JVM is shutting down: the hook runs anyway
            }
        }
    }

    /** The first failure's status once every process has ended (stopping the others then), else 0. */
    private static int waitAll(List<Process> procs, PrintStream err) throws InterruptedException {
        int failed = -1, status = 0;
        long stopAt = Long.MAX_VALUE;
        while (true) {
            boolean running = false;
            for (int r = 0; r < procs.size(); r++) {
                Process p = procs.get(r);
                if (p.isAlive()) {
                    running = true;
                    continue;
                }
                if (p.exitValue() != 0 && failed < 0) {
                    failed = r;
                    status = p.exitValue() == 2 ? 2 : 1;
                    err.println("[launcher] rank " + r + " exited with status " + p.exitValue() + "; stopping the other ranks");
                    err.flush();
                    for (Process q : procs) if (q.isAlive()) q.destroy();
                    stopAt = System.currentTimeMillis() + GRACE_MS;
                }
            }
            if (!running) return status;
            if (System.currentTimeMillis() > stopAt) {
                for (Process q : procs) if (q.isAlive()) q.destroyForcibly();
            }
            procs.get(0).waitFor(100, TimeUnit.MILLISECONDS);
        }
    }

    /** This JVM's java, its options and class path, and the command line's main class with {@code train args}. */
    static List<String> command(List<String> trainArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) cmd.add(a);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.dnonative.cli.Main");
        cmd.add("train");
        cmd.addAll(trainArgs);
        return cmd;
    }

    private static Thread pump(InputStream in, PrintStream to, String prefix) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (to) {
                        to.println(prefix + line);
                        to.flush();
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "dno-launcher-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A port that was free a moment ago on the loopback interface (as torchrun --standalone picks one). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** {@code args} without {@code --nproc N} (or {@code --nproc=N}). */
    public static List<String> withoutNproc(List<String> args) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--nproc")) i++;
            else if (!a.startsWith("--nproc=")) out.add(a);
        }
        return out;
    }
}
