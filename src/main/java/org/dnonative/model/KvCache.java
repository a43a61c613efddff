package org.dnonative.model;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys and values of every layer for a batch of sequences, preallocated to a maximum length so
 * that one decoding step writes one slot and reads a prefix: the cost of a step grows linearly with
 * the context. {@link #keyMask} marks which slots hold real tokens (left padding is false).
 */
public final class KvCache implements AutoCloseable {
    final Tensor[] keys;
    final Tensor[] values;
    final Tensor keyMask;
    private final int capacity;
    private int length;

    public KvCache(ModelConfig config, int batch, int capacity, Device device, torch.ScalarType dtype) {
        this.capacity = capacity;
        int layers = config.numLayers();
        keys = new Tensor[layers];
        values = new Tensor[layers];
        TensorOptions opts = new TensorOptions(dtype).device(new org.bytedeco.pytorch.DeviceOptional(device));
        long[] shape = {batch, config.numKvHeads(), capacity, config.headDim()};
        for (int i = 0; i < layers; i++) {
            keys[i] = torch.zeros(shape, opts);
            values[i] = torch.zeros(shape, opts);
        }
        keyMask = torch.zeros(new long[]{batch, capacity}, new TensorOptions(torch.ScalarType.Bool).device(new org.bytedeco.pytorch.DeviceOptional(device)));
    }

    public int length() { return length; }

    public int capacity() { return capacity; }

    void advance(int tokens) {
        if (length + tokens > capacity) throw new IllegalStateException("KV cache full: " + length + " + " + tokens + " > " + capacity);
        length += tokens;
    }

    @Override
    public void close() {
        for (Tensor t : keys) t.close();
        for (Tensor t : values) t.close();
        keyMask.close();
    }
}
