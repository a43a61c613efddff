package org.dnonative.kernel;


/** Loads libdnonative once and turns its status codes into exceptions. */
final class NativeLibrary {
    private static volatile boolean loaded;

    private NativeLibrary() {}

    static void ensureLoaded() {
        if (loaded) return;
        synchronized (NativeLibrary.class) {
            if (loaded) return;
            try {
                DnoNative.load();
            } catch (UnsatisfiedLinkError e) {
                throw new DnoException(DnoException.Status.INTERNAL,
                        "cannot load libdnonative for " + System.getProperty("os.name") + "-" + System.getProperty("os.arch")
                                + " (only linux-x86_64 is built): " + e.getMessage());
            }
            loaded = true;
        }
    }

    static void check(int rc) {
        if (rc == 0) return;
        String message = DnoNative.dno_last_error().getString();
        DnoException.Status status = DnoException.Status.of(rc);
        throw new DnoException(status, message.isEmpty() ? "libdnonative failed with status " + status : message);
    }

    static String version() {
        ensureLoaded();
        return DnoNative.dno_version().getString();
    }
}
