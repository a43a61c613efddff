package org.dnonative.train;

import org.bytedeco.pytorch.Tensor;

import java.util.Map;

/**
 * What {@link PolicyTrainer#step} does to the accumulated gradients before clipping them: nothing in
 * one process; in a data-parallel run, their sum over the ranks (the global batch's gradient).
 */
@FunctionalInterface
public interface GradientSync {
    GradientSync NONE = parameters -> { };

    void reduce(Map<String, Tensor> parameters);
}
