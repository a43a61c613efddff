package org.dnonative.dist;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** torchrun's variables, the shards of a list, and the launcher's command line: no processes started. */
class WorldTest {
    static final Map<String, String> TORCHRUN = Map.of("RANK", "3", "WORLD_SIZE", "4", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "2",
            "MASTER_ADDR", "node0", "MASTER_PORT", "29500");

    @Test
    void torchrunsVariablesDescribeTheWorld() {
        World w = World.fromEnvironment(TORCHRUN);
        assertEquals(new World(3, 4, 1, 2, "node0", 29500, false, true), w);
        assertTrue(w.distributed() && !w.isMain());
        assertEquals("cuda:1", w.deviceFor("cuda"), "one process per GPU: the device from LOCAL_RANK");
        assertEquals("cuda:0", w.deviceFor("cuda:0"), "an explicit device is kept");
        assertEquals("cpu", w.deviceFor("cpu"));
        Map<String, String> agent = new java.util.HashMap<>(TORCHRUN);
        agent.put("TORCHELASTIC_USE_AGENT_STORE", "True");
        assertTrue(World.fromEnvironment(agent).agentStore(), "torchrun's agent hosts the store");
    }

    @Test
    void withoutALauncherTheProcessIsAlone() {
        assertEquals(World.SINGLE, World.fromEnvironment(Map.of()));
        assertEquals(World.SINGLE, World.fromEnvironment(Map.of("WORLD_SIZE", "1")));
        World one = World.fromEnvironment(Map.of("WORLD_SIZE", "1", "RANK", "0", "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "1234"));
        assertTrue(one.launched() && !one.distributed(), "a launched world of 1 joins a group of its own");
    }

    @Test
    void badVariablesAreNamed() {
        for (Object[] c : new Object[][] {
                {Map.of("WORLD_SIZE", "two"), "WORLD_SIZE is not an integer: 'two'"},
                {Map.of("WORLD_SIZE", "2", "MASTER_ADDR", "a", "MASTER_PORT", "1"), "RANK is not set (WORLD_SIZE is)"},
                {Map.of("WORLD_SIZE", "2", "RANK", "2", "MASTER_ADDR", "a", "MASTER_PORT", "1"), "RANK must be in [0, WORLD_SIZE=2), got 2"},
                {Map.of("WORLD_SIZE", "2", "RANK", "1", "MASTER_PORT", "1"), "MASTER_ADDR is not set (WORLD_SIZE=2)"},
                {Map.of("WORLD_SIZE", "2", "RANK", "1", "MASTER_ADDR", "a", "MASTER_PORT", "70000"), "MASTER_PORT must be in 1..65535, got 70000"},
                {Map.of("WORLD_SIZE", "0"), "WORLD_SIZE must be at least 1, got 0"}}) {
            @SuppressWarnings("unchecked") Map<String, String> env = (Map<String, String>) c[0];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> World.fromEnvironment(env), env.toString());
            assertEquals(c[1], e.getMessage());
        }
    }

    @Test
    void shardsAreWholeChunksRoundRobinAndCoverEveryItemOnce() {
        assertEquals(List.of(0, 1, 2, 6, 7, 8), new Shard(0, 2).items(10, 3));
        assertEquals(List.of(3, 4, 5, 9), new Shard(1, 2).items(10, 3));
        for (int world = 1; world <= 5; world++)
            for (int n = 0; n <= 23; n++)
                for (int chunk = 1; chunk <= 7; chunk++) {
                    int[] seen = new int[n];
                    for (int r = 0; r < world; r++) for (int i : new Shard(r, world).items(n, chunk)) seen[i]++;
                    for (int i = 0; i < n; i++) assertEquals(1, seen[i], "item " + i + " of " + n + ", chunk " + chunk + ", world " + world);
                }
        assertThrows(IllegalArgumentException.class, () -> new Shard(2, 2));
    }

    @Test
    void theLauncherPassesTheCommandOnWithoutNproc() {
        assertEquals(List.of("--out", "d", "--seed", "3"), Launcher.withoutNproc(List.of("--nproc", "2", "--out", "d", "--nproc=4", "--seed", "3")));
        assertFalse(Launcher.command(List.of("--out", "d")).contains("--nproc"));
        assertEquals(List.of("org.dnonative.cli.Main", "train", "--out", "d"), tail(Launcher.command(List.of("--out", "d")), 4));
    }

    @Test
    void backends() {
        assertEquals(Backend.GLOO, Backend.parse("auto", "cpu"));
        assertEquals(Backend.NCCL, Backend.parse("auto", "cuda:1"));
        assertEquals(Backend.GLOO, Backend.parse("GLOO", "cuda"));
        assertEquals("--dist-backend must be auto, gloo or nccl, got 'mpi'",
                assertThrows(IllegalArgumentException.class, () -> Backend.parse("mpi", "cpu")).getMessage());
    }

    private static List<String> tail(List<String> l, int n) {
        return l.subList(l.size() - n, l.size());
    }
}
