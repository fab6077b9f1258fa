package dhtnode.it;

import static dhtnode.it.StabilizationIT.JSON;
import static dhtnode.it.StabilizationIT.KEYS;
import static dhtnode.it.StabilizationIT.load;
import static dhtnode.it.StabilizationIT.unreadable;
import static dhtnode.it.StabilizationIT.within;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Members gone past the removal delay: a node killed (its ranges re-replicated, then a second kill
 * and a full restart of what is left), then a node paused past it (removed, and refilled when it
 * comes back). One cluster for both, in this order, with the removal delay shortened from 30 s to 5
 * s (these tests are about what happens after it, not about the delay): the first leaves nodes 1-3
 * running, which is where the second starts, and a cluster start is the costliest part of either on
 * the CI machine's two cores.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RemovalIT {
  ProcessCluster cluster;

  @BeforeAll
  void start() throws Exception {
    cluster = new ProcessCluster("dht.ring.removal-delay = 5s");
    cluster.script("scripts/start-cluster.sh", "5");
  }

  @AfterAll
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void afterAKillEveryKeyIsBackOnItsLiveReplicasAndSurvivesASecondKillAndAFullRestart()
      throws Exception {
    load(cluster, 5);

    cluster.kill(5);
    List<Integer> survivors = List.of(1, 2, 3, 4);
    // after the removal delay an epoch without node5 is agreed, and the ranges it held are filled
    // on their new replicas
    within(
        60,
        "every survivor drops node5 and fills what it gained",
        () -> {
          List<String> bad = new ArrayList<>();
          for (int node : survivors) {
            JsonNode ring = JSON.readTree(cluster.send(node, "GET", "/cluster/ring", null).body());
            JsonNode stab =
                JSON.readTree(cluster.send(node, "GET", "/cluster/stabilization", null).body());
            if (ring.path("members").toString().contains("node5")
                || !stab.path("settled").asBoolean()) {
              bad.add("node" + node);
            }
          }
          return bad;
        });
    // all three live replicas of every key hold it: any one of them answers right
    within(
        30,
        "every key reads at consistency=one through every survivor",
        () -> unreadable(cluster, survivors, "one"));
    assertEquals(
        List.of(),
        unreadable(cluster, List.of(1), "all"),
        "all three replicas answer with the value");

    cluster.kill(4);
    within(
        60,
        "every key still reads at quorum after a second kill",
        () -> unreadable(cluster, List.of(1, 2, 3), "quorum"));

    // a full restart of what is left keeps everything
    cluster.script("scripts/stop-cluster.sh");
    cluster.script("scripts/start-cluster.sh", "3");
    within(
        30,
        "every key reads at quorum after restarting the cluster",
        () -> unreadable(cluster, List.of(1, 2, 3), "quorum"));
  }

  @Test
  @Order(2)
  void aNodePausedPastTheRemovalDelayIsRemovedThenRefilledWhenItRejoins() throws Exception {
    // nodes 1-3 as the first test leaves them (started here if it did not get that far), every key
    // written again; node3 paused longer than the removal delay, so the others agree an epoch
    // without it
    cluster.script("scripts/start-cluster.sh", "3");
    load(cluster, 3);
    JsonNode before = JSON.readTree(cluster.send(3, "GET", "/cluster/stabilization", null).body());
    cluster.signal(3, "STOP");
    // the others declare it DEAD and, after the removal delay, agree an epoch without it (2 of 3
    // is a majority)
    within(
        30,
        "node1 and node2 drop the paused node3",
        () -> {
          List<String> bad = new ArrayList<>();
          for (int node : List.of(1, 2)) {
            JsonNode ring = JSON.readTree(cluster.send(node, "GET", "/cluster/ring", null).body());
            if (ring.path("members").toString().contains("node3")) {
              bad.add("node" + node);
            }
          }
          return bad;
        });
    for (int i = 0; i < 50; i++) {
      int index = i;
      within(
          30,
          "missed-" + i + " is acknowledged",
          () -> {
            HttpResponse<String> r =
                cluster.send(1 + index % 2, "PUT", "/d/missed-" + index, "while-away-" + index);
            return r.statusCode() == 200 ? List.of() : List.of(r.statusCode() + " " + r.body());
          });
    }

    cluster.signal(3, "CONT");
    // node3 learns it was declared dead, rejoins, and refills before it counts again
    within(
        60,
        "node3 is back in every ring and holds every range it replicates",
        () -> {
          List<String> bad = new ArrayList<>();
          for (int node : List.of(1, 2, 3)) {
            JsonNode ring = JSON.readTree(cluster.send(node, "GET", "/cluster/ring", null).body());
            JsonNode stab =
                JSON.readTree(cluster.send(node, "GET", "/cluster/stabilization", null).body());
            if (ring.path("members").size() != 3 || !stab.path("settled").asBoolean()) {
              bad.add("node" + node);
            }
          }
          return bad;
        });
    // it was out of the ring: it dropped its stale copy and filled every range it gained back
    // from two old replicas each, the 300 keys and the 50 it missed
    JsonNode after = JSON.readTree(cluster.send(3, "GET", "/cluster/stabilization", null).body());
    long fetched = after.path("keysFetched").asLong() - before.path("keysFetched").asLong();
    assertTrue(fetched >= KEYS + 50, "refilled from the others: " + fetched + " keys");

    // with the two others paused, a consistency=one read through node3 can only be answered by
    // node3's own copy: it must hold every write it missed
    cluster.signal(1, "STOP");
    cluster.signal(2, "STOP");
    try {
      List<String> stale = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        HttpResponse<String> r =
            cluster.send(3, "GET", "/d/missed-" + i + "?consistency=one", null);
        if (r.statusCode() != 200 || !r.body().equals("while-away-" + i)) {
          stale.add("missed-" + i + "=" + r.statusCode());
        }
      }
      assertEquals(List.of(), stale, "node3 serves what was written while it was away");
    } finally {
      cluster.signal(1, "CONT");
      cluster.signal(2, "CONT");
    }
  }
}
