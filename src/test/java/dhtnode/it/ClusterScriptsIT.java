package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The README's promise, end to end: scripts/start-cluster.sh brings up three node processes, CRUD
 * works on each, and after stop-cluster.sh and a new start every value is still there; then every
 * scripts/dhtctl command against that cluster, and the live cluster page in a browser ({@link
 * ClusterPage}).
 */
class ClusterScriptsIT {

  @Test
  void crudOnEveryNodeAndDataSurvivesARestart() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster()) {
      String out = cluster.script("scripts/start-cluster.sh", "3");
      assertTrue(out.contains("http://127.0.0.1:" + (ProcessCluster.BASE_HTTP + 2)), out);

      for (int node = 1; node <= 3; node++) {
        String key = "/d/it-key-" + node;
        assertEquals(200, cluster.send(node, "PUT", key, "value-" + node).statusCode());
        assertEquals("value-" + node, cluster.send(node, "GET", key, null).body());
        assertEquals(200, cluster.send(node, "PUT", "/d/doomed-" + node, "x").statusCode());
        assertEquals(200, cluster.send(node, "DELETE", "/d/doomed-" + node, null).statusCode());
        assertEquals(404, cluster.send(node, "GET", "/d/doomed-" + node, null).statusCode());
      }

      String stopped = cluster.script("scripts/stop-cluster.sh");
      assertTrue(stopped.contains("node3") && !stopped.contains("killed"), stopped);
      assertTrue(cluster.livePids().isEmpty(), "every node process has exited");
      assertTrue(cluster.logs().contains("storage closed"), "SIGTERM closed storage cleanly");

      cluster.script("scripts/start-cluster.sh", "3");
      for (int node = 1; node <= 3; node++) {
        HttpResponse<String> read = cluster.send(node, "GET", "/d/it-key-" + node, null);
        assertEquals(200, read.statusCode(), cluster.logs());
        assertEquals("value-" + node, read.body());
        assertEquals(404, cluster.send(node, "GET", "/d/doomed-" + node, null).statusCode());
      }

      dhtctlAnswersForTheCluster(cluster);
      ClusterPage.showsTheClusterLiveAndAKilledNodeTurnsDead(cluster); // last: it kills node3
    }
  }

  private static void dhtctlAnswersForTheCluster(ProcessCluster cluster) throws Exception {
    ObjectMapper json = new ObjectMapper();
    String node1 = "127.0.0.1:" + ProcessCluster.BASE_HTTP;
    String node2 = "127.0.0.1:" + (ProcessCluster.BASE_HTTP + 1);

    ProcessCluster.Run status = cluster.run("scripts/dhtctl", "--node", node1, "status", "--json");
    assertEquals(0, status.exit(), status.output());
    JsonNode members = json.readTree(status.output()).path("members");
    assertEquals(3, members.size(), status.output());
    for (JsonNode m : members) {
      assertEquals("ALIVE", m.path("swim").asText(), status.output());
      assertEquals("current", m.path("ring").asText(), status.output());
      assertEquals(
          1.0, m.path("owns").asDouble(), 0.001, "3 members, 3 replicas: each holds everything");
      assertTrue(m.path("keys").asLong() >= 3, "each holds the three it-keys: " + m);
    }
    ProcessCluster.Run table = cluster.run("scripts/dhtctl", "--node", node1, "status");
    assertEquals(0, table.exit(), table.output());
    assertTrue(
        table.output().contains("NAME")
            && table.output().lines().filter(l -> l.startsWith("node")).count() == 3,
        table.output());

    ProcessCluster.Run ring = cluster.run("scripts/dhtctl", "--node", node2, "ring", "--json");
    assertEquals(0, ring.exit(), ring.output());
    assertTrue(json.readTree(ring.output()).path("epoch").asLong() > 0, ring.output());

    assertEquals(
        0, cluster.run("scripts/dhtctl", "--node", node1, "put", "ctl key", "from dhtctl").exit());
    ProcessCluster.Run get =
        cluster.run("scripts/dhtctl", "--node", node2, "get", "ctl key", "--consistency", "all");
    assertEquals(0, get.exit(), get.output());
    assertEquals("from dhtctl", get.output().strip());
    ProcessCluster.Run owners =
        cluster.run("scripts/dhtctl", "--node", node2, "owners", "ctl key", "--json");
    assertEquals(3, json.readTree(owners.output()).path("replicas").size(), owners.output());
    assertEquals(0, cluster.run("scripts/dhtctl", "--node", node2, "del", "ctl key").exit());
    ProcessCluster.Run gone = cluster.run("scripts/dhtctl", "--node", node1, "get", "ctl key");
    assertEquals(4, gone.exit(), "a deleted key: exit 4, " + gone.output());

    ProcessCluster.Run repair = cluster.run("scripts/dhtctl", "--node", node1, "repair", "--json");
    assertEquals(0, repair.exit(), repair.output());
    assertTrue(json.readTree(repair.output()).has("sessions"), repair.output());

    // nobody listens there: a non-zero exit and one line saying so
    String nowhere = "127.0.0.1:" + (ProcessCluster.BASE_HTTP + 7);
    ProcessCluster.Run unreachable = cluster.run("scripts/dhtctl", "--node", nowhere, "status");
    assertEquals(3, unreachable.exit(), unreachable.output());
    assertEquals(1, unreachable.output().strip().lines().count(), unreachable.output());
    assertTrue(
        unreachable.output().startsWith("dhtctl: cannot reach the node at " + nowhere),
        unreachable.output());
  }
}
