import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.dist.Backend;
import org.dnonative.dist.Cluster;
import org.dnonative.dist.World;
import org.dnonative.model.Tensors;

import java.time.Duration;
import java.util.Arrays;

/**
 * All-reduce (SUM, float32) over the run's process group, as the gradient all-reduce issues it: one
 * rank of a world started with torchrun's variables (bench.sh starts 2 on 127.0.0.1). For each size
 * (float32 elements): 3 warm-up calls, then REPEATS timed calls, each after a barrier; rank 0 prints
 * the median and minimum time and the algorithm bandwidth (bytes / time) and the bus bandwidth
 * (bytes * 2(n-1)/n / time, the figure nccl-tests report).
 *   usage: AllReduceBench REPEATS SIZE...
 */
public final class AllReduceBench {
    public static void main(String[] args) {
        torch.set_num_threads(1);
        int repeats = Integer.parseInt(args[0]);
        World w = World.fromEnvironment();
        try (Cluster c = Cluster.join(w, Backend.GLOO, new Device(torch.DeviceType.CPU), Duration.ofSeconds(120))) {
            for (int a = 1; a < args.length; a++) {
                long n = Long.parseLong(args[a]);
                Tensor t = torch.ones(new long[] {n}, Tensors.options(Tensors.FLOAT));
                for (int i = 0; i < 3; i++) c.group().allReduceSum(t, "warm-up");
                double[] ms = new double[repeats];
                for (int i = 0; i < repeats; i++) {
                    c.barrier("bench");
                    long t0 = System.nanoTime();
                    c.group().allReduceSum(t, "bench");
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(ms);
                double med = ms[repeats / 2], bytes = 4.0 * n, k = w.size();
                if (w.isMain())
                    System.out.printf("allreduce world=%d floats=%d bytes=%.0f median_ms=%.3f min_ms=%.3f algbw_GBps=%.3f busbw_GBps=%.3f%n",
                            w.size(), n, bytes, med, ms[0], bytes / med / 1e6, bytes * 2 * (k - 1) / k / med / 1e6);
            }
        }
        System.exit(0);
    }
}
