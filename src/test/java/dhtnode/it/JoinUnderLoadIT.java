package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Nemesis: three nodes join a loaded 3-node cluster at once (node processes in network namespaces,
 * clients writing and reading through all six nodes, the joiners refusing connections until they
 * are up), then the old owners delete the ranges that moved. The whole history must be linearizable
 * and every acknowledged write readable at quorum, including the keys whose three new replicas are
 * all joiners.
 */
class JoinUnderLoadIT {
  static final List<Integer> ALL = List.of(1, 2, 3, 4, 5, 6);

  @Test
  void threeNodesJoiningALoadedClusterAtOnceLoseNothingAndStayLinearizable() throws Exception {
    NetnsCluster.assumeAvailable();
    try (NetnsCluster cluster = new NetnsCluster("JoinUnderLoadIT", 6, "")) {
      cluster.start(List.of(1, 2, 3));
      StabilizationIT.load(cluster, 3); // KEYS keys, acknowledged before the joins
      long epoch = Nemesis.ring(cluster, 1).path("epoch").asLong();
      List<String> hot =
          List.of("hot-0", "hot-1", "hot-2", "hot-3", "hot-4", "hot-5", "hot-6", "hot-7");
      RegisterClients clients = new RegisterClients(cluster, hot, ALL, 4, true);
      List<Linearizability.Op> history;
      long joinMillis;
      try {
        long t0 = System.nanoTime();
        cluster.start(
            List.of(4, 5, 6)); // returns once all six rings hold all six and every node is settled
        joinMillis = (System.nanoTime() - t0) / 1_000_000;
        // the stable epoch lets the old owners delete what the joiners took over
        StabilizationIT.within(
            60,
            "nodes 1-3 delete the ranges that moved",
            () -> {
              long deleted = 0;
              for (long d :
                  Nemesis.stabilization(cluster, List.of(1, 2, 3), "keysDeleted").values()) {
                deleted += d;
              }
              return deleted > 0 ? List.of() : List.of("nothing deleted yet");
            });
      } finally {
        history = clients.stop();
      }
      JsonNode ring = Nemesis.ring(cluster, 1);
      Map<Integer, Long> fetched = Nemesis.stabilization(cluster, ALL, "keysFetched");
      Map<Integer, Long> deleted = Nemesis.stabilization(cluster, ALL, "keysDeleted");
      System.out.println(
          "[nemesis] 3 joining 3 under load: "
              + joinMillis
              + " ms to all settled; epoch "
              + epoch
              + " -> "
              + ring.path("epoch").asLong()
              + "; keysFetched "
              + fetched
              + "; keysDeleted "
              + deleted);
      assertEquals(
          6, ring.path("members").size(), "all six in the read ring: " + ring.path("members"));
      assertTrue(!ring.path("inTransition").asBoolean(), "the join finished: " + ring);

      Nemesis.finalReads(cluster, ALL, hot, history);
      Nemesis.assertLinearizable(history, "across three joins and the deletion of moved ranges");
      assertEquals(
          List.of(),
          StabilizationIT.unreadable(cluster, List.of(4), "quorum"),
          "keys acknowledged before the joins read at quorum through a joiner");
      // after the old owners deleted what moved, every key is still on all three replicas
      assertEquals(
          List.of(),
          StabilizationIT.unreadable(cluster, List.of(1, 6), "all"),
          "every key still on all three replicas");
      for (int joiner = 4; joiner <= 6; joiner++) {
        int owned = 0;
        for (int i = 0; i < StabilizationIT.KEYS; i++) {
          if (Nemesis.owners(cluster, joiner, "key-" + i).contains("node" + joiner)) {
            owned++;
          }
        }
        assertTrue(
            owned > 0 && fetched.get(joiner) >= owned,
            "node" + joiner + " received its keys: owns " + owned + ", fetched " + fetched);
      }
      assertEquals(
          Map.of(),
          Nemesis.lost(cluster, 6, clients.acknowledgedUnique()),
          "acknowledged writes not readable at quorum after the joins");
    }
  }
}
