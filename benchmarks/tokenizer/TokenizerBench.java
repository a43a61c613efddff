import org.dnonative.model.tokenizer.Tokenizer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The Java side of benchmarks/tokenizer/bench.sh: loads one tokenizer.json and encodes the given
 * texts, one thread, and prints one line per measurement in the same format as peer.py:
 * {@code model op chars median_ms min_ms cpu_ms ids_hash}. Wall times are the median and minimum over
 * repeats after warm-up; CPU time is the process's (GC and JIT threads included), for load the
 * median over repeats, for encode the mean over a batch of about 1M characters. The build
 * machine is shared, so wall time is noisy and CPU time is the steadier figure.
 *
 * Run: java -cp benchmarks/tokenizer/out TokenizerBench MODEL tokenizer.json REPEATS text... (bench.sh compiles it there)
 */
public final class TokenizerBench {
    // process CPU time: the JVM's GC and JIT threads count too (the peer counts its whole process the same way)
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) throws Exception {
        String model = args[0];
        Path file = Path.of(args[1]);
        int repeats = Integer.parseInt(args[2]);
        long[] wall = new long[repeats];
        long[] cpu = new long[repeats];
        Tokenizer tok = null;
        for (int r = 0; r < repeats; r++) {
            long c0 = OS.getProcessCpuTime(), w0 = System.nanoTime();
            tok = Tokenizer.load(file);
            wall[r] = System.nanoTime() - w0;
            cpu[r] = OS.getProcessCpuTime() - c0;
            if (r == 0) print(model, "load-first", 0, new long[]{wall[0]}, new long[]{cpu[0]}, 0);
        }
        print(model, "load", 0, wall, cpu, 0);
        for (int a = 3; a < args.length; a++) {
            String text = Files.readString(Path.of(args[a]));
            int[] ids = null;
            for (int w = 0; w < 3; w++) ids = tok.encode(text);       // warm-up (JIT) before timing
            for (int r = 0; r < repeats; r++) {
                long c0 = OS.getProcessCpuTime(), w0 = System.nanoTime();
                ids = tok.encode(text);
                wall[r] = System.nanoTime() - w0;
                cpu[r] = OS.getProcessCpuTime() - c0;
            }
            // CPU: the process clock ticks in 10 ms here, so a batch of about 1M characters, per call
            int batch = Math.max(5, 1_000_000 / Math.max(1, text.length()));
            long c0 = OS.getProcessCpuTime();
            for (int r = 0; r < batch; r++) tok.encode(text);
            long[] perCall = {(OS.getProcessCpuTime() - c0) / batch};
            print(model, "encode", text.length(), wall, perCall, Arrays.hashCode(ids) & 0xffffffffL);
        }
    }

    private static void print(String model, String op, int chars, long[] wall, long[] cpu, long hash) {
        long[] w = wall.clone(), c = cpu.clone();
        Arrays.sort(w);
        Arrays.sort(c);
        System.out.printf("%s %s %d %.3f %.3f %.3f %d%n", model, op, chars, w[w.length / 2] / 1e6, w[0] / 1e6, c[c.length / 2] / 1e6, hash);
    }
}
