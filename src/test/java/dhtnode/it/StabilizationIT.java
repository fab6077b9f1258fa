package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every key back on N replicas after failures and joins, without losing strong consistency. */
class StabilizationIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int KEYS = 300;

  interface Check {
    List<String> failures() throws Exception;
  }

  /** Polls until the check finds nothing wrong, or fails with what was still wrong. */
  static void within(int seconds, String what, Check check) throws Exception {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
    List<String> failures = check.failures();
    while (!failures.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(500); // pacing between polls; the deadline bounds the wait
      failures = check.failures();
    }
    ProcessCluster.phase(what, start);
    assertTrue(
        failures.isEmpty(),
        what
            + " within "
            + seconds
            + " s; still failing: "
            + failures.subList(0, Math.min(10, failures.size()))
            + " ("
            + failures.size()
            + " in all)");
  }

  /** Requests in flight at once while loading or checking keys: enough to hide round trips. */
  static final int IN_FLIGHT = 8;

  /**
   * Runs {@code task} for keys 0..KEYS-1, {@link #IN_FLIGHT} at a time, and answers what the tasks
   * found wrong, in key order.
   */
  static List<String> forEveryKey(KeyTask task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(IN_FLIGHT);
    try {
      List<Future<List<String>>> results = new ArrayList<>();
      for (int i = 0; i < KEYS; i++) {
        int index = i;
        results.add(pool.submit(() -> task.failures(index)));
      }
      List<String> failures = new ArrayList<>();
      for (Future<List<String>> r : results) {
        try {
          failures.addAll(r.get());
        } catch (ExecutionException e) {
          throw e.getCause() instanceof Exception cause ? cause : e;
        }
      }
      return failures;
    } finally {
      pool.shutdownNow();
    }
  }

  interface KeyTask {
    List<String> failures(int key) throws Exception;
  }

  /**
   * Writes every key once, retrying a 503 (a replica briefly pending, e.g. after a stall it
   * noticed) within a deadline: the test needs the keys acknowledged, whatever it takes.
   */
  static void load(NodeHttp cluster, int nodes) throws Exception {
    long start = System.nanoTime();
    forEveryKey(
        index -> {
          within(
              30,
              "key-" + index + " is acknowledged",
              () -> {
                HttpResponse<String> r =
                    cluster.send(1 + index % nodes, "PUT", "/d/key-" + index, "value-" + index);
                return r.statusCode() == 200 ? List.of() : List.of(r.statusCode() + " " + r.body());
              });
          return List.of();
        });
    ProcessCluster.phase("load " + KEYS + " keys", start);
  }

  static List<String> unreadable(NodeHttp cluster, List<Integer> nodes, String consistency)
      throws Exception {
    List<String> bad = new ArrayList<>();
    for (int node : nodes) {
      bad.addAll(
          forEveryKey(
              i -> {
                HttpResponse<String> r =
                    cluster.send(node, "GET", "/d/key-" + i + "?consistency=" + consistency, null);
                return r.statusCode() == 200 && r.body().equals("value-" + i)
                    ? List.of()
                    : List.of("node" + node + "/key-" + i + "=" + r.statusCode());
              }));
    }
    return bad;
  }

  @Test
  void aNodeKilledAndRestartedWithinTheRemovalDelayMovesNoData() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster()) {
      cluster.script("scripts/start-cluster.sh", "3");
      load(cluster, 3);
      long epoch =
          JSON.readTree(cluster.send(1, "GET", "/cluster/ring", null).body())
              .path("epoch")
              .asLong();
      long[] fetchedBefore = new long[4];
      for (int node = 1; node <= 3; node++) {
        fetchedBefore[node] =
            JSON.readTree(cluster.send(node, "GET", "/cluster/stabilization", null).body())
                .path("keysFetched")
                .asLong();
      }
      cluster.kill(3);
      for (int i = 0; i < 20; i++) { // writes it misses, acknowledged by the other two
        int index = i;
        within(
            30,
            "down-" + i + " is acknowledged",
            () -> {
              HttpResponse<String> r =
                  cluster.send(1 + index % 2, "PUT", "/d/down-" + index, "v" + index);
              return r.statusCode() == 200 ? List.of() : List.of(r.statusCode() + " " + r.body());
            });
      }
      cluster.script("scripts/start-cluster.sh", "3"); // restarts only node3, within the 30 s delay
      for (int node = 1; node <= 3; node++) {
        JsonNode ring = JSON.readTree(cluster.send(node, "GET", "/cluster/ring", null).body());
        assertEquals(epoch, ring.path("epoch").asLong(), "no ring epoch was agreed: node" + node);
        long fetched =
            JSON.readTree(cluster.send(node, "GET", "/cluster/stabilization", null).body())
                .path("keysFetched")
                .asLong();
        assertEquals(fetchedBefore[node], fetched, "node" + node + " streamed nothing");
      }
      within(
          30,
          "every key reads at quorum through the restarted node",
          () -> unreadable(cluster, List.of(3), "quorum"));
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> r = cluster.send(3, "GET", "/d/down-" + i, null);
        assertEquals("v" + i, r.body(), "a quorum read through node3 sees the write it missed");
      }
    }
  }

  @Test
  void oldDeletesAreCollectedFromEveryReplicaAndNeverComeBack() throws Exception {
    // a short grace period and frequent rounds, so collection happens within the test
    try (ProcessCluster cluster =
        new ProcessCluster(
            "dht.stabilization.tombstone-grace = 8s\ndht.stabilization.anti-entropy-interval = 2s")) {
      cluster.script("scripts/start-cluster.sh", "3");
      for (int i = 0; i < 40; i++) {
        int index = i;
        within(
            30,
            "gc-" + i + " is written and deleted",
            () -> {
              HttpResponse<String> put =
                  cluster.send(1 + index % 3, "PUT", "/d/gc-" + index, "v" + index);
              HttpResponse<String> delete =
                  cluster.send(1 + index % 3, "DELETE", "/d/gc-" + index, null);
              return put.statusCode() == 200 && delete.statusCode() == 200
                  ? List.of()
                  : List.of(put.statusCode() + "/" + delete.statusCode());
            });
      }
      within(
          90,
          "every tombstone is collected by its primary",
          () -> {
            long purged = 0;
            for (int node = 1; node <= 3; node++) {
              purged +=
                  JSON.readTree(cluster.send(node, "GET", "/cluster/stabilization", null).body())
                      .path("tombstonesPurged")
                      .asLong();
            }
            return purged >= 40 ? List.of() : List.of(purged + " of 40 purged");
          });
      // gone from every replica: a read at `all` finds no tombstone anywhere (no version header),
      // and another anti-entropy round brings nothing back
      cluster.send(1, "POST", "/cluster/repair", null);
      within(
          30,
          "every deleted key reads as never written, from all three replicas",
          () -> {
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
              HttpResponse<String> r =
                  cluster.send(1 + i % 3, "GET", "/d/gc-" + i + "?consistency=all", null);
              if (r.statusCode() != 404 || r.headers().firstValue("X-Dht-Version").isPresent()) {
                bad.add(
                    "gc-"
                        + i
                        + "="
                        + r.statusCode()
                        + " "
                        + r.headers().firstValue("X-Dht-Version").orElse(""));
              }
            }
            return bad;
          });
    }
  }
}
