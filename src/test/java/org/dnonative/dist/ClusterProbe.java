package org.dnonative.dist;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.Tensors;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A process of {@link ClusterTest}: joins the group from the environment and prints what each
 * exchange gave, one "key=value" line each, for the test to compare across ranks. The mode "die"
 * makes rank 1 exit in the middle, "hang" makes it sleep; "fail" makes rank 1 throw inside a gather.
 */
public final class ClusterProbe {
    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "ok";
        torch.set_num_threads(1);
        World w = World.fromEnvironment();
        try (Cluster c = Cluster.join(w, Backend.GLOO, new Device(torch.DeviceType.CPU), Duration.ofSeconds(Long.parseLong(args.length > 1 ? args[1] : "20")))) {
            List<Integer> got = c.gather("probe gather", 10, Integer.class, () -> {
                if (mode.equals("fail") && c.rank() == 1) throw new IllegalStateException("probe failure on purpose");
                Map<Integer, Integer> m = new LinkedHashMap<>();
                for (int i : c.shard().items(10, 3)) m.put(i, i * i + 100 * 0);
                return m;
            });
            System.out.println("gather=" + got);
            System.out.println("sum=" + java.util.Arrays.toString(c.sum(new double[] {c.rank() + 1, 0.5}, "probe sum")));
            System.out.println("agree=" + c.agree(c.rank() == 0, "probe agree"));
            if (mode.equals("die") && c.rank() == 1) Runtime.getRuntime().halt(137);
            if (mode.equals("hang") && c.rank() == 1) {
                try { Thread.sleep(600_000); } catch (InterruptedException e) { }
            }
            Tensor p = Tensors.fromFloats(new float[] {1f, 2f, 3f}, 3).requires_grad_(true);
            p.mutable_grad().put(Tensors.fromFloats(new float[] {c.rank() + 0.25f, 1f, 2f}, 3));
            Map<String, Tensor> params = new LinkedHashMap<>();
            params.put("p", p);
            Tensor half = torch.zeros(new long[] {2}, Tensors.options(Tensors.FLOAT)).requires_grad_(true);
            if (c.rank() == 1) half.mutable_grad().put(Tensors.fromFloats(new float[] {5f, 6f}, 2));
            params.put("half", half);
            params.put("unused", torch.zeros(new long[] {2}, Tensors.options(Tensors.FLOAT)).requires_grad_(true));
            new GradientAllReduce(c.group()).reduce(params);
            System.out.println("grad=" + java.util.Arrays.toString(Tensors.toFloats(p.grad())) + " half=" + java.util.Arrays.toString(Tensors.toFloats(half.grad()))
                    + " unused=" + (params.get("unused").grad().defined() ? "defined" : "undefined"));
            c.group().verifyParams(List.of(p));
            System.out.println("verified");
        } catch (RuntimeException e) {
            System.out.println("error=" + e.getMessage());
            System.exit(1);
        }
        System.exit(0);
    }
}
