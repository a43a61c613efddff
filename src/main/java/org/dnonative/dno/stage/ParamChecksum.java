package org.dnonative.dno.stage;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.dist.Cluster;
import org.dnonative.dist.DistributedException;
import org.dnonative.model.CausalLM;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A checksum of a model's parameters, bit for bit (CRC-32 over the names and float bytes, in the
 * model's order), written into train.json; in a distributed run every rank computes it and the
 * stage fails, naming the ranks, unless all agree: data parallelism must leave every rank with
 * bitwise the same parameters.
 */
final class ParamChecksum {
    private ParamChecksum() {}

    static String of(CausalLM model) {
        CRC32 crc = new CRC32();
        for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
            crc.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            Tensor c = e.getValue().detach().to(new Device(torch.DeviceType.CPU), e.getValue().scalar_type()).contiguous();
            long n = c.nbytes();
            try (BytePointer p = new BytePointer(c.data_ptr())) {
                p.capacity(n);
                crc.update(p.asByteBuffer());
            }
        }
        return String.format("%08x", crc.getValue());
    }

    static String agreed(Cluster cluster, CausalLM model) {
        String mine = of(model);
        List<String> all = cluster.allGather(mine, "the parameter checksums");
        for (int r = 1; r < all.size(); r++)
            if (!all.get(r).equals(all.get(0)))
                throw new DistributedException("after training, rank " + r + "'s parameters differ from rank 0's (checksums " + all
                        + "): the gradient all-reduce left the ranks apart");
        return mine;
    }
}
