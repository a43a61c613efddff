package org.dnonative.model;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TorchSmokeTest {
    @Test
    void createsATensor() {
        Tensor t = ones(2, 3);
        assertEquals(6.0, t.sum().item_double(), 1e-9);
    }
}
