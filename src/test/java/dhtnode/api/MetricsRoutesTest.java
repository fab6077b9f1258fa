package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dhtnode.metrics.Metrics;
import dhtnode.node.NodeSettings;
import dhtnode.replication.Placement;
import dhtnode.replication.Replica;
import dhtnode.replication.ReplicaCoordinator;
import dhtnode.storage.HybridClock;
import dhtnode.storage.InMemoryEngine;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StoragePoller;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} against a real binding: the body is valid Prometheus text, every meter the
 * node promises is there, and request counters move with requests.
 */
class MetricsRoutesTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A key the locator gives no replica, so every request on it is a 503. */
  static final String NOWHERE = "nowhere";

  static final ObjectMapper MAPPER = new ObjectMapper();
  static Metrics metrics;
  static ServerBinding binding;
  static String base;

  /** {@code name{label="value",...} value}, labels optional; values as Prometheus writes them. */
  static final Pattern SAMPLE =
      Pattern.compile(
          "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*\\})? "
              + "(-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|\\+Inf|-Inf)");

  @BeforeAll
  static void bind() throws Exception {
    NodeSettings settings =
        NodeSettings.from(
            ConfigFactory.parseString(
                    "dht.node.name = metrics-node\n"
                        + "dht.storage.engine = memory\n"
                        + "dht.replication { factor = 1, read-quorum = 1, write-quorum = 1 }\n")
                .withFallback(ConfigFactory.defaultReference())
                .resolve());
    metrics = Metrics.withJvmMetrics(settings.name);
    metrics.ringEpoch(() -> 5);
    metrics.nodeInfo("memory", false);
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new));
    testKit.spawn(StoragePoller.create(storage, metrics, Duration.ofMillis(50)));
    Routes routes =
        new Routes(
            settings.http,
            settings.replication,
            settings.name,
            testKit.system(),
            storage,
            key ->
                Placement.stable(
                    0,
                    key.equals(NOWHERE)
                        ? List.of()
                        : List.of(new Replica("metrics-node", storage))),
            null,
            new HybridClock(),
            null,
            ReplicaCoordinator.EpochListener.IGNORE,
            metrics);
    binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .withSettings(settings.http.serverSettings(testKit.system()))
            .bind(routes.route(new MetricsRoutes(metrics).route()))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void shutdown() throws Exception {
    binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
    metrics.close();
  }

  @Test
  void scrapeIsPrometheusTextWithEveryPromisedMeterAndCountersFollowRequests() throws Exception {
    Map<String, Double> before = scrape();
    String writeQuorum =
        "dht_requests_seconds_count{consistency=\"quorum\",node=\"metrics-node\",op=\"write\"}";
    String readOne =
        "dht_requests_seconds_count{consistency=\"one\",node=\"metrics-node\",op=\"read\"}";
    String readQuorum =
        "dht_requests_seconds_count{consistency=\"quorum\",node=\"metrics-node\",op=\"read\"}";
    String deleteQuorum =
        "dht_requests_seconds_count{consistency=\"quorum\",node=\"metrics-node\",op=\"delete\"}";
    String readUnavailable = "dht_unavailable_total{node=\"metrics-node\",op=\"read\"}";
    for (String series : List.of(writeQuorum, readOne, readQuorum, deleteQuorum, readUnavailable)) {
      assertTrue(before.containsKey(series), "meters are registered before any request: " + series);
    }

    assertEquals(200, send("PUT", "/d/a", "1").statusCode());
    assertEquals(200, send("PUT", "/d/b", "2").statusCode());
    assertEquals(200, send("GET", "/d/a", null).statusCode());
    assertEquals(404, send("GET", "/d/never?consistency=one", null).statusCode());
    assertEquals(200, send("DELETE", "/d/b", null).statusCode());
    assertEquals(503, send("GET", "/d/" + NOWHERE, null).statusCode());

    Map<String, Double> after = scrape();
    assertEquals(before.get(writeQuorum) + 2, after.get(writeQuorum));
    assertEquals(before.get(readOne) + 1, after.get(readOne));
    assertEquals(before.get(readQuorum) + 2, after.get(readQuorum)); // the 200 and the 503
    assertEquals(before.get(deleteQuorum) + 1, after.get(deleteQuorum));
    assertEquals(before.get(readUnavailable) + 1, after.get(readUnavailable));
    String writeSum =
        "dht_requests_seconds_sum{consistency=\"quorum\",node=\"metrics-node\",op=\"write\"}";
    assertTrue(after.get(writeSum) > 0, writeSum);
    assertEquals(
        after.get(writeQuorum),
        after.get(
            "dht_requests_seconds_bucket{consistency=\"quorum\",node=\"metrics-node\",op=\"write\",le=\"+Inf\"}"));
    assertEquals(5.0, after.get("dht_ring_epoch{node=\"metrics-node\"}"));
    assertEquals(
        1.0, after.get("dht_node_info{engine=\"memory\",fsync=\"off\",node=\"metrics-node\"}"));

    for (String name :
        List.of(
            "dht_requests_seconds_bucket",
            "dht_requests_seconds_max",
            "dht_timeouts_total",
            "dht_read_repairs_total",
            "dht_read_speculations_total",
            "dht_swim_probes_total",
            "dht_swim_suspicions_total",
            "dht_swim_deaths_total",
            "dht_stabilizer_keys_streamed_total",
            "dht_stabilizer_merkle_mismatches_total",
            "dht_storage_keys",
            "dht_storage_size_bytes",
            "jvm_memory_used_bytes",
            "jvm_gc_memory_allocated_bytes_total",
            "jvm_threads_live_threads")) {
      assertTrue(
          after.keySet().stream()
              .anyMatch(series -> series.equals(name) || series.startsWith(name + "{")),
          "no series named " + name + " in " + after.keySet());
    }
  }

  @Test
  void storageGaugesFollowWhatStorageHolds() throws Exception {
    assertEquals(200, send("PUT", "/d/gauge-1", "x").statusCode());
    assertEquals(200, send("PUT", "/d/gauge-2", "y").statusCode());
    String keys = "dht_storage_keys{node=\"metrics-node\"}";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    // the gauge is refreshed by the poller, not by the request: wait for the refresh
    while (scrape().get(keys) < 2.0) {
      if (System.nanoTime() > deadline) {
        fail("storage key gauge stayed at " + scrape().get(keys));
      }
      Thread.sleep(20); // poll interval of the wait, not a stand-in for the condition
    }
  }

  @Test
  void stabilizerCountersMoveByWhatTheyAreGiven() throws Exception {
    String streamed = "dht_stabilizer_keys_streamed_total{node=\"metrics-node\"}";
    String mismatches = "dht_stabilizer_merkle_mismatches_total{node=\"metrics-node\"}";
    String handedOff = "dht_stabilizer_keys_handed_off_total{node=\"metrics-node\"}";
    String purged = "dht_stabilizer_tombstones_purged_total{node=\"metrics-node\"}";
    Map<String, Double> before = scrape();
    metrics.keysStreamed(40);
    metrics.merkleMismatches(3);
    metrics.keysHandedOff(7);
    metrics.tombstonesPurged(2);
    Map<String, Double> after = scrape();
    assertEquals(before.get(streamed) + 40, after.get(streamed));
    assertEquals(before.get(mismatches) + 3, after.get(mismatches));
    assertEquals(before.get(handedOff) + 7, after.get(handedOff));
    assertEquals(before.get(purged) + 2, after.get(purged));
  }

  @Test
  void groupCommitMetersCountBatchesBySizeAndOnlySyncedOnesAsSyncs() throws Exception {
    String count = "dht_storage_batch_writes_count{node=\"metrics-node\"}";
    String sum = "dht_storage_batch_writes_sum{node=\"metrics-node\"}";
    String upTo4 = "dht_storage_batch_writes_bucket{node=\"metrics-node\",le=\"4.0\"}";
    String upTo64 = "dht_storage_batch_writes_bucket{node=\"metrics-node\",le=\"64.0\"}";
    String synced = "dht_storage_synced_batches_total{node=\"metrics-node\"}";
    String timed = "dht_storage_batch_seconds_count{node=\"metrics-node\"}";
    Map<String, Double> before = scrape();
    metrics.storageBatch(3, 3, 2_000_000);
    metrics.storageBatch(40, 39, 5_000_000);
    metrics.storageBatch(2, 0, 100_000); // every write refused: nothing written, nothing synced
    Map<String, Double> after = scrape();
    assertEquals(before.get(count) + 3, after.get(count));
    assertEquals(before.get(sum) + 45, after.get(sum));
    assertEquals(before.get(upTo4) + 2, after.get(upTo4));
    assertEquals(before.get(upTo64) + 3, after.get(upTo64));
    assertEquals(before.get(synced) + 2, after.get(synced));
    assertEquals(before.get(timed) + 3, after.get(timed));
  }

  @Test
  void theJsonFormSumsTheRequestHistogramAndAnyOriginMayReadIt() throws Exception {
    JsonNode before = json();
    assertEquals(200, send("PUT", "/d/json-1", "1").statusCode());
    assertEquals(200, send("GET", "/d/json-1?consistency=one", null).statusCode());
    assertEquals(503, send("GET", "/d/" + NOWHERE, null).statusCode());
    HttpResponse<String> response = send("GET", "/metrics?format=json", null);
    assertEquals(200, response.statusCode());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    assertEquals("*", response.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
    JsonNode after = MAPPER.readTree(response.body());

    // every operation and level together, as the Prometheus form's series add up
    Map<String, Double> samples = scrape();
    double count = 0;
    for (Map.Entry<String, Double> s : samples.entrySet()) {
      if (s.getKey().startsWith("dht_requests_seconds_count{")) {
        count += s.getValue();
      }
    }
    assertEquals(before.get("requests").asLong() + 3, after.get("requests").asLong());
    assertEquals((long) count, after.get("requests").asLong());
    assertEquals(before.get("unavailable").asLong() + 1, after.get("unavailable").asLong());
    assertTrue(after.get("requestSeconds").asDouble() > before.get("requestSeconds").asDouble());
    JsonNode buckets = after.get("buckets");
    assertEquals(12, buckets.size());
    assertEquals(0.001, buckets.get(0).get("le").asDouble());
    assertEquals(5.0, buckets.get(11).get("le").asDouble());
    long previous = 0;
    for (JsonNode bucket : buckets) {
      long cumulative = bucket.get("count").asLong();
      assertTrue(cumulative >= previous, "cumulative: " + buckets);
      previous = cumulative;
    }
    assertTrue(previous <= after.get("requests").asLong());

    HttpResponse<String> bad = send("GET", "/metrics?format=xml", null);
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("\"bad_format\""), bad.body());
  }

  @Test
  void histogramBucketsAreCumulativeCountsOfRequestsAtMostThatLong() {
    try (Metrics m = new Metrics("buckets")) {
      m.request(Metrics.Op.READ, dhtnode.common.Consistency.ONE, 500_000); // 0.5 ms
      m.request(Metrics.Op.WRITE, dhtnode.common.Consistency.QUORUM, 3_000_000); // 3 ms
      m.request(Metrics.Op.DELETE, dhtnode.common.Consistency.ALL, 3_000_000);
      m.request(Metrics.Op.READ, dhtnode.common.Consistency.QUORUM, 7_000_000_000L); // 7 s
      Metrics.RequestTotals totals = m.requestTotals();
      assertEquals(4, totals.count());
      assertEquals(7.0065, totals.sumSeconds(), 1e-9);
      // 1 ms, 2 ms, 5 ms, 10 ms, ... 5 s
      assertEquals(1, totals.cumulative()[0]);
      assertEquals(1, totals.cumulative()[1]);
      assertEquals(3, totals.cumulative()[2]);
      assertEquals(3, totals.cumulative()[11], "the 7 s request is above every bucket");
    }
  }

  private static JsonNode json() throws Exception {
    return MAPPER.readTree(send("GET", "/metrics?format=json", null).body());
  }

  /** GET /metrics, checked line by line; samples by their full series name (name + labels). */
  private static Map<String, Double> scrape() throws Exception {
    HttpResponse<String> response = send("GET", "/metrics", null);
    assertEquals(200, response.statusCode());
    assertTrue(
        response
            .headers()
            .firstValue("Content-Type")
            .orElse("")
            .startsWith("text/plain; version=0.0.4"),
        response.headers().toString());
    Map<String, Double> samples = new HashMap<>();
    for (String line : response.body().split("\n")) {
      if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertTrue(m.matches(), "not a Prometheus sample line: " + line);
      String series = m.group(1) + (m.group(2) == null ? "" : m.group(2));
      samples.put(series, parse(m.group(3)));
    }
    return samples;
  }

  private static double parse(String value) {
    return switch (value) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(value);
    };
  }

  private static HttpResponse<String> send(String method, String path, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    request.method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body));
    return client.send(request.build(), BodyHandlers.ofString());
  }
}
