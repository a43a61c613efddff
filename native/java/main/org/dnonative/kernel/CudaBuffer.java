package org.dnonative.kernel;

import java.lang.ref.Cleaner;

import org.bytedeco.javacpp.Pointer;

/**
 * Device memory owned by Java. Free it with {@link #close()}: nothing relies on the garbage
 * collector to release device memory (a buffer that was never closed is reported, not freed).
 */
public final class CudaBuffer implements AutoCloseable {
    private static final Cleaner LEAKS = Cleaner.create();

    private final long bytes;
    private final LeakCheck leak;
    private long address;

    private record LeakCheck(long bytes, boolean[] closed) implements Runnable {
        @Override
        public void run() {
            if (!closed[0]) System.err.println("dno-native: a CudaBuffer of " + bytes + " bytes was never closed (leaked)");
        }
    }

    public CudaBuffer(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("bytes must be > 0, got " + bytes);
        NativeLibrary.ensureLoaded();
        long[] ptr = new long[1];
        NativeLibrary.check(DnoNative.dno_cuda_malloc(ptr, bytes));
        this.address = ptr[0];
        this.bytes = bytes;
        this.leak = new LeakCheck(bytes, new boolean[1]);
        LEAKS.register(this, leak);
    }

    /** The device address. */
    public long address() {
        if (address == 0) throw new IllegalStateException("CudaBuffer was closed");
        return address;
    }

    public long bytes() {
        return bytes;
    }

    /** Copies {@code count} bytes from host memory at {@code src} to the start of this buffer. */
    public CudaBuffer copyFromHost(Pointer src, long count) {
        check(count);
        NativeLibrary.check(DnoNative.dno_cuda_memcpy_to_device(address(), src.address() + src.position() * src.sizeof(), count));
        return this;
    }

    /** Copies {@code count} bytes from host memory at {@code src} to this buffer, {@code offset} bytes from its start. */
    public CudaBuffer copyFromHost(Pointer src, long offset, long count) {
        if (offset < 0 || count < 0 || offset > bytes - count)
            throw new IllegalArgumentException("offset " + offset + " + count " + count + " is outside [0," + bytes + "] bytes of this buffer");
        NativeLibrary.check(DnoNative.dno_cuda_memcpy_to_device(address() + offset, src.address() + src.position() * src.sizeof(), count));
        return this;
    }

    /** Copies {@code count} bytes from the start of this buffer to host memory at {@code dst}. */
    public void copyToHost(Pointer dst, long count) {
        check(count);
        NativeLibrary.check(DnoNative.dno_cuda_memcpy_to_host(dst.address() + dst.position() * dst.sizeof(), address(), count));
    }

    private void check(long count) {
        if (count < 0 || count > bytes)
            throw new IllegalArgumentException("count " + count + " is outside [0," + bytes + "] bytes of this buffer");
    }

    @Override
    public void close() {
        if (address == 0) return;
        long a = address;
        address = 0;
        leak.closed()[0] = true;
        NativeLibrary.check(DnoNative.dno_cuda_free(a));
    }
}
