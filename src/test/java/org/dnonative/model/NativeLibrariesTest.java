package org.dnonative.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two JVMs that load the native libraries at the same moment into an empty JavaCPP cache both
 * start (NativeLibraries' lock file). Without the lock the second crashed with SIGBUS in the
 * dynamic loader, three times in three tries (2026-12-03, the 2-core AMD EPYC).
 */
class NativeLibrariesTest {
    /** What each child runs: the load, then one libtorch op and one kernel call. */
    public static void main(String[] args) {
        NativeLibraries.load();
        try (org.bytedeco.pytorch.Tensor t = org.bytedeco.pytorch.global.torch.ones(3)) {
            System.out.println("sum " + t.sum().item_double() + ", AMX " + org.dnonative.kernel.AmxLinear.available());
        }
    }

    @Test
    void twoProcessesLoadingAtOnceIntoAnEmptyCacheBothStart(@TempDir Path cache) throws Exception {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<Process> procs = new ArrayList<>();
        for (int i = 0; i < 2; i++)
            procs.add(new ProcessBuilder(java, "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-cp", System.getProperty("java.class.path"),
                    NativeLibrariesTest.class.getName()).redirectErrorStream(true).start());
        for (int i = 0; i < procs.size(); i++) {
            Process p = procs.get(i);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "process " + i + " finishes");
            assertEquals(0, p.exitValue(), "process " + i + " exits 0:\n" + out);
            assertTrue(out.contains("sum 3.0"), "process " + i + " ran libtorch:\n" + out);
        }
    }
}
