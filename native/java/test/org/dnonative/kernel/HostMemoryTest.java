package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * {@link HostMemory#keepFreed()} on this project's machines (Linux, glibc): it applies, and large
 * host blocks are still allocated, written, freed and allocated again afterwards (from the heap
 * now, not fresh mappings), with their contents intact while held.
 */
class HostMemoryTest {
    @Test
    void keepsFreedMemoryAndLargeBlocksStillWork() {
        assertTrue(HostMemory.keepFreed(), "glibc accepts the settings");
        assertTrue(HostMemory.keepFreed(), "applying it twice is harmless");
        for (int round = 0; round < 3; round++) {
            long n = 24L << 20;   // 96 MiB: above glibc's largest mmap threshold
            try (FloatPointer p = new FloatPointer(n)) {
                for (long i = 0; i < n; i += 4096) p.put(i, (float) (i + round));
                for (long i = 0; i < n; i += 4096) assertEquals((float) (i + round), p.get(i), "element " + i + ", round " + round);
            }
        }
    }
}
