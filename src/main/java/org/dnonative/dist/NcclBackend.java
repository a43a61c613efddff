package org.dnonative.dist;

import org.bytedeco.pytorch.BackendOptional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;

import java.time.Duration;

/**
 * The NCCL backend, in a class of its own: {@code ProcessGroupNCCL}'s native library exists only in
 * the presets' {@code linux-x86_64-gpu} build, so nothing loads it unless a run asks for NCCL (on the
 * CPU build that fails here, with a {@link LinkageError} that {@link Group#join} reports).
 */
final class NcclBackend {
    private NcclBackend() {}

    static void attach(ProcessGroup pg, Store store, World world, Device device, Duration timeout) {
        if (device == null || device.type() != torch.DeviceType.CUDA)
            throw new IllegalArgumentException("the NCCL backend needs a CUDA device (--device cuda), got " + device);
        ProcessGroupNCCL.Options o = ProcessGroupNCCL.Options.create();
        o.timeout(Group.ms(timeout));
        ProcessGroupNCCL nccl = new ProcessGroupNCCL(store, world.rank(), world.size(), o);
        pg.setBackend(torch.DeviceType.CUDA, ProcessGroup.BackendType.NCCL, new BackendOptional(nccl));
        pg.setDefaultBackend(ProcessGroup.BackendType.NCCL);
        pg.setBoundDeviceId(new org.bytedeco.pytorch.DeviceOptional(device));
    }
}
