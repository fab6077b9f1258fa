package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Any node serves any key, strongly consistent: five node processes from the scripts, clients
 * writing and reading the same few keys through random nodes at quorum, and the whole history
 * checked for linearizability; then, on the same cluster, a key with two of its three replicas
 * paused answers 503 and recovers. One cluster for both (in this order): a start of five nodes is
 * the costliest part of either on the CI machine's two cores.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicationIT {
  static final ObjectMapper JSON = new ObjectMapper();
  ProcessCluster cluster;

  @BeforeAll
  void start() throws Exception {
    cluster = new ProcessCluster();
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
  void quorumReadsAndWritesThroughAnyNodeAreLinearizable() throws Exception {
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

  @Test
  @Order(2)
  void withTwoOfThreeReplicasPausedAQuorumRequestIs503NamingWhoAnsweredAndRecovers()
      throws Exception {
    // a key node1 replicates: its two other replicas are the ones paused
    String key = null;
    List<Integer> others = null;
    for (int i = 0; others == null; i++) {
      key = "paused-" + i;
      others = otherReplicasIfNode1Replicates(key);
    }
    String path = "/d/" + key;
    assertEquals(200, cluster.send(1, "PUT", path, "before").statusCode());

    for (int node : others) {
      cluster.signal(node, "STOP");
    }
    HttpResponse<String> write = cluster.send(1, "PUT", path, "during");
    assertEquals(503, write.statusCode(), write.body());
    JsonNode body = JSON.readTree(write.body());
    assertEquals("unavailable", body.path("error").asText());
    assertTrue(body.path("message").asText().length() > 0);
    HttpResponse<String> read = cluster.send(1, "GET", path, null);
    assertEquals(503, read.statusCode(), read.body());
    assertTrue(
        JSON.readTree(read.body()).path("answered").toString().contains("node1")
            || JSON.readTree(read.body()).path("answered").size() == 0,
        read.body());
    assertEquals(200, cluster.send(1, "GET", path + "?consistency=one", null).statusCode());

    for (int node : others) {
      cluster.signal(node, "CONT");
    }
    // the resumed nodes notice they were away, refill before they count again, and rejoin:
    // quorum writes and reads through every node work again
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    List<String> failing = List.of("not tried");
    while (!failing.isEmpty() && System.nanoTime() < until) {
      Thread.sleep(200); // pacing between polls; the deadline bounds the wait
      failing = new ArrayList<>();
      HttpResponse<String> put = cluster.send(1, "PUT", path, "after");
      if (put.statusCode() != 200) {
        failing.add("PUT " + put.statusCode());
        continue;
      }
      for (int node = 1; node <= 5; node++) {
        HttpResponse<String> get = cluster.send(node, "GET", path, null);
        if (!get.body().equals("after")) {
          failing.add("node" + node + ": " + get.body());
        }
      }
    }
    assertEquals(List.of(), failing, "service recovers after the pause\n" + cluster.logs());
  }

  /** If node1 is a replica of {@code key}, the numbers of its other two replicas; else null. */
  private List<Integer> otherReplicasIfNode1Replicates(String key) throws Exception {
    JsonNode owners = JSON.readTree(cluster.send(1, "GET", "/cluster/owners/" + key, null).body());
    List<Integer> others = new ArrayList<>();
    boolean node1 = false;
    for (JsonNode r : owners.path("replicas")) {
      int k = Integer.parseInt(r.asText().substring("node".length()));
      if (k == 1) {
        node1 = true;
      } else {
        others.add(k);
      }
    }
    assertEquals(3, owners.path("replicas").size(), owners.toString());
    return node1 ? others : null;
  }
}
