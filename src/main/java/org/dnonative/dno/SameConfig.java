package org.dnonative.dno;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.dist.Cluster;
import org.dnonative.dno.config.ConfigLoader;
import org.dnonative.dno.config.DnoConfig;
import org.dnonative.dno.store.RunStore;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Refuses a distributed run whose ranks were started with different configurations or run
 * directories (each rank computes its shard from its own copy: a difference would silently mix two
 * experiments). The device is left out: each rank has its own (cuda:LOCAL_RANK).
 */
final class SameConfig {
    private SameConfig() {}

    static void check(Cluster cluster, DnoConfig config, Path root) {
        if (!cluster.distributed()) return;
        List<String> all = cluster.allGather(digest(config, root), "comparing the ranks' configurations");
        List<Integer> differ = new ArrayList<>();
        for (int r = 1; r < all.size(); r++) if (!all.get(r).equals(all.get(0))) differ.add(r);
        if (!differ.isEmpty())
            throw new ConfigException("the configuration or run directory of rank(s) " + differ + " differs from rank 0's: every rank must "
                    + "be started with the same arguments and configuration files (only the device may differ)");
    }

    static String digest(DnoConfig config, Path root) {
        try {
            ObjectNode tree = (ObjectNode) RunStore.JSON.readTree(ConfigLoader.toJson(config));
            tree.remove("device");
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(tree.toString().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(root.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException | java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
