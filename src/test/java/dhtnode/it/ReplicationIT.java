package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Any node serves any key, strongly consistent: five node processes from the scripts, clients
 * writing and reading the same few keys through random nodes at quorum, and the whole history
 * checked for linearizability.
 */
class ReplicationIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void quorumReadsAndWritesThroughAnyNodeAreLinearizable() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster()) {
      cluster.script("scripts/start-cluster.sh", "5");

      // every node names the same replicas for a key
      for (String key : List.of("alpha", "beta", "gamma/δ")) {
        String path =
            "/cluster/owners/" + java.net.URLEncoder.encode(key, "UTF-8").replace("+", "%20");
        JsonNode first = JSON.readTree(cluster.send(1, "GET", path, null).body());
        assertEquals(3, first.path("replicas").size(), first.toString());
        for (int node = 2; node <= 5; node++) {
          assertEquals(
              first, JSON.readTree(cluster.send(node, "GET", path, null).body()), "node" + node);
        }
      }

      List<String> keys = List.of("k0", "k1", "k2", "k3", "k4", "k5");
      RegisterClients clients = new RegisterClients(cluster, keys, 5, 4);
      TimeUnit.SECONDS.sleep(8); // a fixed stretch of load, not a wait for a condition
      List<Linearizability.Op> history = clients.stop();

      long acked = RegisterClients.acknowledgedWrites(history);
      long reads = RegisterClients.reads(history);
      assertTrue(
          acked > 50 && reads > 50,
          "enough load to mean something: " + acked + " writes, " + reads + " reads");
      Linearizability.Result verdict = Linearizability.check(history);
      assertTrue(
          verdict.linearizable(), "history of key " + verdict.badKey() + " is not linearizable");
    }
  }

  @Test
  void withTwoOfThreeReplicasPausedAQuorumRequestIs503NamingWhoAnsweredAndRecovers()
      throws Exception {
    try (ProcessCluster cluster = new ProcessCluster()) {
      cluster.script("scripts/start-cluster.sh", "3");
      assertEquals(200, cluster.send(1, "PUT", "/d/paused", "before").statusCode());

      cluster.signal(2, "STOP");
      cluster.signal(3, "STOP");
      HttpResponse<String> write = cluster.send(1, "PUT", "/d/paused", "during");
      assertEquals(503, write.statusCode(), write.body());
      JsonNode body = JSON.readTree(write.body());
      assertEquals("unavailable", body.path("error").asText());
      assertTrue(body.path("message").asText().length() > 0);
      HttpResponse<String> read = cluster.send(1, "GET", "/d/paused", null);
      assertEquals(503, read.statusCode(), read.body());
      assertTrue(
          JSON.readTree(read.body()).path("answered").toString().contains("node1")
              || JSON.readTree(read.body()).path("answered").size() == 0,
          read.body());
      assertEquals(200, cluster.send(1, "GET", "/d/paused?consistency=one", null).statusCode());

      cluster.signal(2, "CONT");
      cluster.signal(3, "CONT");
      // the resumed nodes notice they were away, refill before they count again, and rejoin:
      // quorum writes and reads through every node work again
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      List<String> failing = List.of("not tried");
      while (!failing.isEmpty() && System.nanoTime() < until) {
        Thread.sleep(200); // pacing between polls; the deadline bounds the wait
        failing = new java.util.ArrayList<>();
        HttpResponse<String> put = cluster.send(1, "PUT", "/d/paused", "after");
        if (put.statusCode() != 200) {
          failing.add("PUT " + put.statusCode());
          continue;
        }
        for (int node = 1; node <= 3; node++) {
          HttpResponse<String> get = cluster.send(node, "GET", "/d/paused", null);
          if (!get.body().equals("after")) {
            failing.add("node" + node + ": " + get.body());
          }
        }
      }
      assertEquals(List.of(), failing, "service recovers after the pause\n" + cluster.logs());
    }
  }
}
