package dhtnode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Whole nodes (NodeGuardian with SWIM, ring, remoting and coordinators) as several ActorSystems in
 * one JVM on loopback, with in-memory storage: the layers working together without processes.
 */
class MultiNodeTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  record Node(
      String name, int httpPort, int clusterPort, ActorSystem<NodeGuardian.Command> system) {}

  final List<Node> nodes = new ArrayList<>();

  /** Config lines a test adds to every node it starts after setting them. */
  String extraConfig = "";

  @AfterEach
  void stopAll() throws Exception {
    for (Node n : nodes) {
      n.system().terminate();
    }
    for (Node n : nodes) {
      n.system().getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  /** A port free for both TCP (remoting, HTTP) and UDP (SWIM). */
  static int freePort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      try (ServerSocket tcp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
        int port = tcp.getLocalPort();
        try (DatagramSocket udp = new DatagramSocket(port, InetAddress.getLoopbackAddress())) {
          return port;
        } catch (IOException taken) {
          // try another
        }
      }
    }
    throw new IOException("no free port");
  }

  /** A node whose seed list is only itself, told to found a new cluster. */
  Node startSeed(String name) throws IOException {
    int clusterPort = freePort();
    return start(name, freePort(), clusterPort, clusterPort, true);
  }

  Node startJoining(String name, int seedPort) throws IOException {
    return start(name, freePort(), freePort(), seedPort, false);
  }

  Node start(String name, int httpPort, int clusterPort, int seedPort, boolean found) {
    Config config =
        ConfigFactory.parseString(
                "dht.node { name = "
                    + name
                    + ", http-port = "
                    + httpPort
                    + ", cluster-port = "
                    + clusterPort
                    + ", seeds = [\"127.0.0.1:"
                    + seedPort
                    + "\"] }\n"
                    + "dht.ring { found-cluster = "
                    + found
                    + ", removal-delay = 1s }\n"
                    + "dht.storage.engine = memory\n"
                    + "dht.http.request-timeout = 1s\n"
                    + "dht.membership { protocol-period = 200ms, ping-timeout = 80ms, join-retry-interval = 200ms }\n"
                    + "akka.loglevel = WARNING\n"
                    + extraConfig)
            // unresolved, so application.conf's ${dht.node.cluster-port} picks up this node's port
            .withFallback(ConfigFactory.parseResources("application.conf"))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    NodeSettings settings = NodeSettings.from(config);
    ActorSystem<NodeGuardian.Command> system =
        ActorSystem.create(NodeGuardian.create(settings), "dht", config);
    Node node = new Node(name, httpPort, clusterPort, system);
    nodes.add(node);
    awaitTrue(
        () -> status(node, "GET", "/health", null) == 200, "node " + name + " serves /health");
    return node;
  }

  static HttpResponse<String> send(Node node, String method, String path, String body) {
    try {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
              .timeout(Duration.ofSeconds(5))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body))
              .build();
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new RuntimeException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  static int status(Node node, String method, String path, String body) {
    try {
      return send(node, method, path, body).statusCode();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  static int ringSize(Node node) {
    try {
      return JSON.readTree(send(node, "GET", "/cluster/ring", null).body()).path("members").size();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** At a stable ring epoch with nothing left to fill. */
  static boolean settled(Node node) {
    try {
      return JSON.readTree(send(node, "GET", "/cluster/stabilization", null).body())
          .path("settled")
          .asBoolean(false);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(50); // pacing between polls; the deadline bounds the wait
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new AssertionError("timed out waiting until " + what);
  }

  @Test
  void aLoneNodeRefusesQuorumRequestsClearlyButServesConsistencyOne() throws Exception {
    Node alone = startSeed("solo");
    awaitTrue(
        () -> settled(alone),
        "the founder of a new cluster starts with its (empty) ranges at once");
    HttpResponse<String> put = send(alone, "PUT", "/d/k", "v");
    assertEquals(503, put.statusCode(), put.body());
    JsonNode body = JSON.readTree(put.body());
    assertEquals("unavailable", body.path("error").asText());
    assertTrue(body.path("message").asText().contains("replica"), body.toString());
    assertEquals(200, status(alone, "PUT", "/d/k?consistency=one", "v"));
    assertEquals("v", send(alone, "GET", "/d/k?consistency=one", null).body());
  }

  @Test
  void withFsyncOnANodeGroupCommitsItsWritesAndCountsTheBatches() throws Exception {
    extraConfig = "dht.storage.fsync = on\n";
    Node alone = startSeed("durable");
    awaitTrue(() -> settled(alone), "the founder starts with its ranges at once");
    for (int i = 0; i < 5; i++) {
      assertEquals(200, status(alone, "PUT", "/d/k" + i + "?consistency=one", "v" + i));
    }
    assertEquals("v3", send(alone, "GET", "/d/k3?consistency=one", null).body());
    String metrics = send(alone, "GET", "/metrics", null).body();
    // one write at a time: five batches of one, each synced
    for (String series :
        List.of(
            "dht_storage_batch_writes_count",
            "dht_storage_batch_writes_sum",
            "dht_storage_synced_batches_total")) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "(?m)^" + series + "\\{node=\"durable\"\\} ([0-9.eE+-]+)$")
              .matcher(metrics);
      assertTrue(m.find(), series + " not in\n" + metrics);
      assertEquals(5.0, Double.parseDouble(m.group(1)), series);
    }
  }

  @Test
  void anyNodeServesAnyKeyAndTheClusterSurvivesAGracefulLeave() throws Exception {
    Node a = startSeed("alpha");
    Node b = startJoining("bravo", a.clusterPort());
    Node c = startJoining("charlie", a.clusterPort());
    for (Node n : List.of(a, b, c)) {
      awaitTrue(() -> ringSize(n) == 3, n.name() + " sees three members in its ring");
      awaitTrue(
          () -> settled(n),
          n.name() + " is at a stable epoch and has filled every range it replicates");
    }

    for (int i = 0; i < 30; i++) {
      Node writer = nodes.get(i % 3);
      assertEquals(200, status(writer, "PUT", "/d/key-" + i, "value-" + i), "write " + i);
    }
    for (int i = 0; i < 30; i++) {
      for (Node reader : List.of(a, b, c)) {
        HttpResponse<String> read = send(reader, "GET", "/d/key-" + i, null);
        assertEquals(200, read.statusCode(), reader.name() + " key-" + i);
        assertEquals("value-" + i, read.body());
      }
    }
    assertEquals(200, status(b, "DELETE", "/d/key-0", null));
    for (Node reader : List.of(a, b, c)) {
      assertEquals(404, status(reader, "GET", "/d/key-0", null));
    }
    // every node names the same replicas
    String owners = send(a, "GET", "/cluster/owners/key-7", null).body();
    assertEquals(owners, send(b, "GET", "/cluster/owners/key-7", null).body());
    assertEquals(owners, send(c, "GET", "/cluster/owners/key-7", null).body());

    // a graceful stop is seen as LEFT, not as a failure, and leaves the ring
    c.system().terminate();
    c.system().getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    awaitTrue(() -> ringSize(a) == 2 && ringSize(b) == 2, "the leaver is out of both rings");
    JsonNode members =
        JSON.readTree(send(a, "GET", "/cluster/members", null).body()).path("members");
    boolean left = false;
    for (JsonNode m : members) {
      left |= m.path("name").asText().equals("charlie") && m.path("status").asText().equals("LEFT");
    }
    assertTrue(left, members.toString());
    // two members left: N is 2 for every key, and W=2 means both must answer
    assertEquals(200, status(a, "PUT", "/d/after-leave", "x"));
    assertEquals("x", send(b, "GET", "/d/after-leave", null).body());
  }
}
