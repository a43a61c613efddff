package org.dnonative.model;

import org.bytedeco.javacpp.Loader;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.StandardOpenOption;

/**
 * Loads the native libraries the policy uses (libtorch and its OpenBLAS through the presets, and
 * the project's kernels) while
 * holding a lock file in JavaCPP's cache directory, so that processes starting at the same moment
 * (the ranks of {@code train --nproc N}, two commands started together) load one after another.
 *
 * <p>Why: with an empty cache, the second of two JVMs that load the presets at once crashed with
 * SIGBUS inside the dynamic loader (ld-linux), three times in three tries on 2026-12-03: it mapped a
 * library that the first JVM's JavaCPP was still writing into the cache. JavaCPP locks each
 * extraction, but not the window between one process's extraction and the other's load. Under
 * this lock the first process extracts everything and loads it; the others then find a complete
 * cache. Where the lock cannot be taken (a read-only cache directory), it loads without it.
 */
public final class NativeLibraries {
    private static volatile boolean loaded;

    private NativeLibraries() {}

    /** Loads libtorch's, OpenBLAS's and the kernels' libraries once per process, under the cache directory's lock file. */
    public static void load() {
        if (loaded) return;
        synchronized (NativeLibraries.class) {
            if (loaded) return;
            FileLock lock = null;
            FileChannel channel = null;
            try {
                File dir = Loader.getCacheDir();
                if (dir.isDirectory() || dir.mkdirs()) {
                    channel = FileChannel.open(new File(dir, ".dno-native-load.lock").toPath(),
                            StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    lock = channel.lock();
                }
            } catch (IOException | RuntimeException e) {
                // no lock: load as JavaCPP does by itself
            }
            try {
                Loader.load(org.bytedeco.pytorch.global.torch.class);
                Loader.load(org.bytedeco.openblas.global.openblas_full.class);
                // the project's kernels (their binding's static initializer extracts and loads them)
                Class.forName("org.dnonative.kernel.DnoNative", true, NativeLibraries.class.getClassLoader());
                loaded = true;
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("the kernel module (org.dnonative.kernel) is not on the class path", e);
            } finally {
                try {
                    if (lock != null) lock.release();
                    if (channel != null) channel.close();
                } catch (IOException e) {
                    // released with the channel or the process
                }
            }
        }
    }
}
