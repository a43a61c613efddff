package org.dnonative.dist;

import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.AllgatherOptions;
import org.bytedeco.pytorch.BackendOptional;
import org.bytedeco.pytorch.BarrierOptions;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.LoggerOptional;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.Tensors;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * A c10d process group (Gloo, or NCCL on CUDA) joined through a TCPStore that rank 0 hosts, with the
 * traps of the presets (each seen to abort or hang the JVM when ignored) encapsulated:
 * <ul>
 *   <li>the raw store is handed to native code once (to the {@link ProcessGroup} wrapper) and never
 *       freed from Java; everything else uses {@code getStore()};</li>
 *   <li>the backend is set on a {@link ProcessGroup}, which the DDP utilities need;</li>
 *   <li>the Gloo device is this node's own address ({@code GLOO_SOCKET_IFNAME}, or loopback for a
 *       loopback master), never MASTER_ADDR;</li>
 *   <li>every timeout (store, group, each collective) is the run's, not the library's 30 minutes.</li>
 * </ul>
 * Every collective here has sizes and dtypes that all ranks agree on by construction (a mismatch
 * aborts the process from a Gloo thread, with no Java exception).
 */
public final class Group {
    private final World world;
    private final Backend backend;
    private final Device device;
    private final Duration timeout;
    private final ProcessGroup pg;
    private final Store store;

    private Group(World world, Backend backend, Device device, Duration timeout, ProcessGroup pg) {
        this.world = world;
        this.backend = backend;
        this.device = device;
        this.timeout = timeout;
        this.pg = pg;
        this.store = pg.getStore();
    }

    /** Joins (rank 0: hosts the store unless torchrun's agent does) and returns once every rank has. */
    public static Group join(World world, Backend backend, Device device, Duration timeout) {
        TCPStore raw;
        try {
            raw = new TCPStore(world.masterAddr(), storeOptions(world, world.isMain() && !world.agentStore(), true, timeout));
        } catch (RuntimeException e) {
            throw new DistributedException(world.label() + ": cannot reach the store at " + world.masterAddr() + ":" + world.masterPort()
                    + " within " + timeout.toSeconds() + " s: " + firstLine(e), e);
        }
        raw.deallocate(false);   // native code owns it from here on: freeing it from Java would delete a store in use
        ProcessGroup pg = new ProcessGroup(raw, world.rank(), world.size());
        Store store = pg.getStore();
        try {
            switch (backend) {
                case GLOO -> {
                    ProcessGroupGloo.Options o = ProcessGroupGloo.Options.create(ms(timeout));
                    o.devices(new GlooDeviceVector(glooDevice(world)));
                    o.threads(2);
                    ProcessGroupGloo gloo = new ProcessGroupGloo(store, world.rank(), world.size(), o);
                    pg.setBackend(torch.DeviceType.CPU, ProcessGroup.BackendType.GLOO, new BackendOptional(gloo));
                    pg.setDefaultBackend(ProcessGroup.BackendType.GLOO);
                }
                case NCCL -> NcclBackend.attach(pg, store, world, device, timeout);
            }
        } catch (RuntimeException | LinkageError e) {
            throw new DistributedException(world.label() + ": cannot create the " + backend + " process group: " + firstLine(e), e);
        }
        Group g = new Group(world, backend, device, timeout, pg);
        g.barrier("joining the group");
        return g;
    }

    /** @param count whether this connection is one of the world's: rank 0 waits for all of those (each counts itself in) */
    static TCPStoreOptions storeOptions(World world, boolean server, boolean count, Duration timeout) {
        TCPStoreOptions o = new TCPStoreOptions();
        o.port((short) world.masterPort());
        o.isServer(server);
        o.numWorkers(new SizeTPointer(1).put(world.size()));
        o.waitWorkers(count);
        o.timeout(ms(timeout));
        return o;
    }

    private static org.bytedeco.pytorch.gloo.Device glooDevice(World world) {
        String ifname = System.getenv("GLOO_SOCKET_IFNAME");
        if (ifname != null && !ifname.isBlank()) return ProcessGroupGloo.createDeviceForInterface(ifname.split(",")[0].trim());
        try {
            if (InetAddress.getByName(world.masterAddr()).isLoopbackAddress()) return ProcessGroupGloo.createDeviceForHostname("127.0.0.1");
        } catch (java.net.UnknownHostException e) {
            throw new DistributedException(world.label() + ": MASTER_ADDR " + world.masterAddr() + " does not resolve", e);
        }
        return ProcessGroupGloo.createDefaultDevice();
    }

    /** A native exception's message without the C++ stack that c10d appends. */
    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int cut = m.indexOf("\nException raised from");
        if (cut < 0) cut = m.indexOf("Exception raised from");
        return (cut < 0 ? m : m.substring(0, cut)).strip();
    }

    static Milliseconds ms(Duration d) {
        return new Milliseconds(d.toMillis());
    }

    public World world() { return world; }
    public Backend backend() { return backend; }
    public Duration timeout() { return timeout; }
    /** The store the group was joined through (for keys of this run's own). */
    public Store store() { return store; }
    /** The wrapped c10d group, for torch's DDP utilities. */
    public ProcessGroup processGroup() { return pg; }

    /** Waits until every rank arrives, for at most {@code limit}. */
    public void barrier(String what, Duration limit) {
        BarrierOptions o = new BarrierOptions();
        o.timeout(ms(limit));
        await(pg.barrier(o), what, limit);
    }

    public void barrier(String what) {
        barrier(what, timeout);
    }

    /** Sums {@code t} (a contiguous tensor on the group's device) over the ranks, in place; every rank gets bitwise the same result. */
    public void allReduceSum(Tensor t, String what) {
        AllreduceOptions o = new AllreduceOptions();
        o.reduceOp(new ReduceOp(ReduceOp.RedOpType.SUM));
        o.timeout(ms(timeout));
        TensorVector v = new TensorVector(t);
        await(pg.allreduce(v, o), what, timeout);
    }

    /** Every rank's bytes, by rank (two collectives: the lengths, then the bytes padded to the longest). */
    public byte[][] allGatherBytes(byte[] mine, String what) {
        return allGatherBytes(mine, what, timeout);
    }

    /** As {@link #allGatherBytes(byte[], String)}, waiting at most {@code limit} for the other ranks. */
    public byte[][] allGatherBytes(byte[] mine, String what, Duration limit) {
        int n = world.size();
        Tensor len = onDevice(Tensors.fromLongs(new long[] {mine.length}, 1));
        Tensor lens = onDevice(torch.zeros(new long[] {n}, Tensors.options(Tensors.LONG)));
        await(pg._allgather_base(lens, len, gatherOptions(limit)), what, limit);
        long[] sizes = Tensors.toLongs(lens);
        long max = 0;
        for (long s : sizes) max = Math.max(max, s);
        byte[][] out = new byte[n][];
        if (max == 0) {
            for (int r = 0; r < n; r++) out[r] = new byte[0];
            return out;
        }
        Tensor in = torch.zeros(new long[] {max}, Tensors.options(torch.ScalarType.Byte));
        try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(in.data_ptr())) {
            p.put(mine, 0, mine.length);
        }
        in = onDevice(in);
        Tensor all = onDevice(torch.zeros(new long[] {n * max}, Tensors.options(torch.ScalarType.Byte)));
        await(pg._allgather_base(all, in, gatherOptions(limit)), what, limit);
        Tensor cpu = all.to(new Device(torch.DeviceType.CPU), torch.ScalarType.Byte).contiguous();
        byte[] flat = new byte[(int) (n * max)];
        try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(cpu.data_ptr())) {
            p.capacity(flat.length);
            p.get(flat);
        }
        for (int r = 0; r < n; r++) {
            out[r] = new byte[(int) sizes[r]];
            System.arraycopy(flat, (int) (r * max), out[r], 0, (int) sizes[r]);
        }
        return out;
    }

    private static AllgatherOptions gatherOptions(Duration limit) {
        AllgatherOptions o = new AllgatherOptions();
        o.timeout(ms(limit));
        return o;
    }

    /**
     * torch's DDP check that every rank holds parameters of the same number and shapes (it throws
     * naming the first mismatch); the values are compared after training by the checksum of
     * {@code org.dnonative.dno.stage.ParamChecksum}.
     */
    public void verifyParams(List<Tensor> params) {
        try {
            torch.verify_params_across_processes(pg, Tensors.vector(params), new LoggerOptional());
        } catch (RuntimeException e) {
            throw new DistributedException(world.label() + ": the ranks' parameters differ in number or shape: " + firstLine(e), e);
        }
    }

    Tensor onDevice(Tensor t) {
        return backend == Backend.NCCL ? t.to(device, t.scalar_type()) : t;
    }

    private void await(Work w, String what, Duration limit) {
        try {
            w._wait(ms(limit));
        } catch (RuntimeException e) {
            throw new DistributedException(world.label() + ": " + what + " failed (another rank died, hung for more than "
                    + limit.toSeconds() + " s, or left): " + firstLine(e), e);
        }
    }
}
