package org.dnonative.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that a reader sees either the old content or the complete new content, never a
 * partial file: the data goes to a temporary file in the same directory, is forced to disk, and the
 * temporary file is renamed over the target with ATOMIC_MOVE.
 *
 * <p>Temporary files and directories are made with the process's umask, as any other file: not
 * with {@link Files#createTempFile}, whose 0600 (0700 for directories) would survive the rename and
 * leave every output unreadable to the group. Nothing written here is secret (API keys never are).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Something that writes the whole content of a file to an open channel. */
    @FunctionalInterface
    public interface ChannelWriter {
        void writeTo(FileChannel channel) throws IOException;
    }

    public static void writeString(Path target, String content) throws IOException {
        writeBytes(target, content.getBytes(StandardCharsets.UTF_8));
    }

    public static void writeBytes(Path target, byte[] content) throws IOException {
        write(target, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }

    public static void write(Path target, ChannelWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = siblingFile(abs, ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writer.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            fsyncDirectory(dir);
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /**
     * A new empty file next to {@code target} (".NAME.RANDOM" + suffix, hidden), created with the
     * umask's permissions; the caller renames or deletes it.
     */
    public static Path siblingFile(Path target, String suffix) throws IOException {
        Path abs = target.toAbsolutePath();
        for (int attempt = 0; ; attempt++) {
            Path p = abs.resolveSibling("." + abs.getFileName() + "." + randomPart() + suffix);
            try {
                Files.newByteChannel(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return p;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    /** A new empty directory next to {@code target} (".NAME" + infix + RANDOM), created with the umask's permissions. */
    public static Path siblingDirectory(Path target, String infix) throws IOException {
        Path abs = target.toAbsolutePath();
        for (int attempt = 0; ; attempt++) {
            Path p = abs.resolveSibling("." + abs.getFileName() + infix + randomPart());
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    private static String randomPart() {
        return Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    }

    private static void fsyncDirectory(Path dir) {
        // Makes the rename durable on Linux; not supported everywhere, and harmless to skip.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
        }
    }
}
