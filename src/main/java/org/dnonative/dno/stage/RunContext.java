package org.dnonative.dno.stage;

import org.bytedeco.pytorch.Device;
import org.dnonative.dist.Cluster;
import org.dnonative.dno.Progress;
import org.dnonative.dno.StageHook;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.RunStore;
import org.dnonative.model.Policy;
import org.dnonative.oracle.PreferenceOracle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * What every stage of one run shares: the configuration, the run store, the device, the oracle
 * (opened on first use, closed by the run), progress bars and the console.
 */
public final class RunContext implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("dno");

    private final DnoConfig config;
    private final RunStore store;
    private final Device device;
    private final Progress.Mode progress;
    private final PrintWriter console;
    private final Supplier<PreferenceOracle> openOracle;
    private final StageHook hook;
    private final Cluster cluster;
    private PreferenceOracle oracle;
    private int iteration;
    private String stage = "";

    public RunContext(DnoConfig config, RunStore store, Device device, Progress.Mode progress, PrintWriter console,
                      StageHook hook, Supplier<PreferenceOracle> openOracle) {
        this(config, store, device, progress, console, hook, openOracle, Cluster.single());
    }

    /** @param cluster the ranks of a distributed run ({@link Cluster#single()} alone) */
    public RunContext(DnoConfig config, RunStore store, Device device, Progress.Mode progress, PrintWriter console,
                      StageHook hook, Supplier<PreferenceOracle> openOracle, Cluster cluster) {
        this.cluster = cluster;
        this.hook = hook;
        this.config = config;
        this.store = store;
        this.device = device;
        this.progress = progress;
        this.console = console;
        this.openOracle = openOracle;
    }

    public DnoConfig config() { return config; }
    public RunStore store() { return store; }
    public Device device() { return device; }
    /** This process's place in a distributed run, and the exchanges between the ranks. */
    public Cluster cluster() { return cluster; }
    /** Progress bars of the running stage; each step is also a point where {@link StageHook#during} can inject a fault. */
    public Progress.Factory bars() {
        int t = iteration;
        String s = stage;
        return (task, total) -> Progress.start(progress, task, total).onStep(() -> hook.during(t, s));
    }

    /** Which stage of which iteration runs now (set by the run before it calls the stage). */
    public void enter(int iteration, String stage) {
        this.iteration = iteration;
        this.stage = stage;
    }

    public synchronized PreferenceOracle oracle() {
        if (oracle == null) oracle = openOracle.get();
        return oracle;
    }

    /** The directory of pi_t: the given model (or the embedded warm start) for t = 1, else iteration t-1's checkpoint. */
    public Path policyDir(int t) {
        if (t <= 1) return config.usesEmbeddedModel() ? store.checkpoint(0) : Path.of(config.model());
        return store.checkpoint(t - 1);
    }

    public Policy loadPolicy(int t) {
        return Policy.load(policyDir(t), device);
    }

    /** A line of the run's log (stderr): what the run is doing. */
    public void say(String format, Object... args) {
        if (cluster.isMain()) LOG.info(String.format(format, args));   // one log for a distributed run
    }

    /** A line on the console (stdout), for what a user must read (results, warnings about the run's inputs). */
    public void tell(String format, Object... args) {
        if (console == null) return;
        console.println(String.format(format, args));
        console.flush();
    }

    @Override
    public synchronized void close() {
        if (oracle != null) oracle.close();
        oracle = null;
    }
}
