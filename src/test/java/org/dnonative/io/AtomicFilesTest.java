package org.dnonative.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Atomically written files and the temporary directories of checkpoints get the permissions of any
 * other new file (the process's umask), not createTempFile's 0600 / createTempDirectory's 0700.
 * The umask cannot be set from Java, so the reference is a file made plainly in the same directory.
 */
class AtomicFilesTest {
    @TempDir Path dir;

    @Test
    void filesAndDirectoriesGetTheUmasksPermissions() throws Exception {
        Set<PosixFilePermission> plainFile = Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain")));
        Set<PosixFilePermission> plainDir = Files.getPosixFilePermissions(Files.createDirectory(dir.resolve("plain-dir")));
        Path target = dir.resolve("out.json");
        AtomicFiles.writeString(target, "{}\n");
        assertEquals(PosixFilePermissions.toString(plainFile), PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        AtomicFiles.writeString(target, "{\"again\": true}\n");
        assertEquals(PosixFilePermissions.toString(plainFile), PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        assertEquals("{\"again\": true}\n", Files.readString(target));
        Path tmpDir = AtomicFiles.siblingDirectory(dir.resolve("checkpoint"), ".tmp-");
        assertEquals(PosixFilePermissions.toString(plainDir), PosixFilePermissions.toString(Files.getPosixFilePermissions(tmpDir)));
        assertTrue(tmpDir.getFileName().toString().startsWith(".checkpoint.tmp-"), tmpDir.toString());
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void aFailedWriteLeavesNeitherTheTargetNorATemporaryFile() throws Exception {
        Path target = dir.resolve("out.bin");
        assertThrows(java.io.IOException.class, () -> AtomicFiles.write(target, ch -> { throw new java.io.IOException("disk full"); }));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "nothing left in the directory");
        }
    }
}
