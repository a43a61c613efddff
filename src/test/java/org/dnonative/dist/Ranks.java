package org.dnonative.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Test harness: JVMs of this test class path on 127.0.0.1, each with a hard time limit, destroyed in
 * {@link #close} whatever happened. Either {@code train --nproc N} (one launcher process), or N ranks
 * started here with torchrun's variables (so that one rank can get its own JVM options).
 */
final class Ranks implements AutoCloseable {
    final List<Process> procs = new ArrayList<>();
    final List<Path> logs = new ArrayList<>();

    static String java() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** One process: {@code java [jvmOptions] -cp CP org.dnonative.cli.Main args}, output to {@code log}. */
    Process start(Path log, Map<String, String> env, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.add("-Xmx1g");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.dnonative.cli.Main");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("WORLD_SIZE");
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().putAll(env);
        Process p = pb.start();
        procs.add(p);
        logs.add(log);
        return p;
    }

    /** N ranks of {@code args} joined through the environment; {@code perRank[r]} are rank r's extra JVM options. */
    List<Process> startRanks(Path dir, int n, List<List<String>> perRank, String... args) throws IOException {
        int port = Launcher.freePort();
        List<Process> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            Map<String, String> env = Map.of("RANK", "" + r, "LOCAL_RANK", "" + r, "WORLD_SIZE", "" + n, "LOCAL_WORLD_SIZE", "" + n,
                    "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "" + port);
            out.add(start(dir.resolve("rank-" + r + ".log"), env, perRank.size() > r ? perRank.get(r) : List.of(), args));
        }
        return out;
    }

    /** The exit status, or a failure with every log when the process outlives {@code seconds}. */
    int await(Process p, long seconds) throws Exception {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("a process ran longer than " + seconds + " s:\n" + logs());
        }
        return p.exitValue();
    }

    String logs() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Path l : logs) {
            sb.append("==== ").append(l.getFileName()).append('\n');
            if (Files.exists(l)) {
                String s = Files.readString(l);
                sb.append(s.length() > 6000 ? s.substring(s.length() - 6000) : s);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (Process p : procs) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }
}
