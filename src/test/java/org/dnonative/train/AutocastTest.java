package org.dnonative.train;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A weight changed in place between two autocast regions is seen by the second (CPU autocast, as on CUDA). */
class AutocastTest {
    @Test
    void aSecondRegionSeesUpdatedWeights() {
        Device cpu = new Device("cpu");
        Tensor w = torch.ones(4, 4);
        w.set_requires_grad(true);   // a leaf parameter: the kind of tensor autocast caches casts of
        Tensor x = torch.ones(1, 4);
        try (Autocast a = Autocast.bf16(cpu)) {
            assertEquals(16f, torch.linear(x, w).sum().item_float());
        }
        try (NoGradGuard g = new NoGradGuard()) {
            w.mul_(new Scalar(2.0));   // an optimizer step
        }
        try (Autocast a = Autocast.bf16(cpu)) {
            assertEquals(32f, torch.linear(x, w).sum().item_float());
        }
    }
}
