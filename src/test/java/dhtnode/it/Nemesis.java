package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/** What the nemesis tests measure and check about a cluster, whatever its transport. */
final class Nemesis {
  private Nemesis() {}

  /** The replicas of a key in node K's read ring, as node names. */
  static List<String> owners(NetnsCluster cluster, int node, String key) throws Exception {
    List<String> replicas = new ArrayList<>();
    cluster
        .json(node, "/cluster/owners/" + key)
        .path("replicas")
        .forEach(r -> replicas.add(r.asText()));
    return replicas;
  }

  /**
   * The first {@code count} keys {@code prefix-i} whose replicas (in node K's ring) satisfy the
   * test.
   */
  static List<String> keysWhere(
      NetnsCluster cluster, int node, String prefix, int count, Predicate<List<String>> test)
      throws Exception {
    List<String> keys = new ArrayList<>();
    for (int i = 0; keys.size() < count; i++) {
      if (i > 2000) {
        throw new IllegalStateException(
            "fewer than " + count + " keys " + prefix + "-i fit among 2000");
      }
      if (test.test(owners(cluster, node, prefix + "-" + i))) {
        keys.add(prefix + "-" + i);
      }
    }
    return keys;
  }

  /** How many of the replicas are on the side. */
  static long on(List<String> replicas, Set<Integer> side) {
    return replicas.stream().filter(r -> side.stream().anyMatch(k -> r.equals("node" + k))).count();
  }

  static Map<Integer, Long> epochs(NetnsCluster cluster, Collection<Integer> nodes)
      throws Exception {
    Map<Integer, Long> epochs = new TreeMap<>();
    for (int k : nodes) {
      epochs.put(k, cluster.json(k, "/cluster/ring").path("epoch").asLong());
    }
    return epochs;
  }

  static Map<Integer, Long> stabilization(
      NetnsCluster cluster, Collection<Integer> nodes, String field) throws Exception {
    Map<Integer, Long> values = new TreeMap<>();
    for (int k : nodes) {
      values.put(k, cluster.json(k, "/cluster/stabilization").path(field).asLong());
    }
    return values;
  }

  /**
   * Served (2xx/404) and sent requests to {@code nodes} for {@code keys}, called and returned
   * within [from, to].
   */
  static long[] served(
      List<RegisterClients.Request> requests,
      Set<Integer> nodes,
      Collection<String> keys,
      long from,
      long to) {
    long served = 0;
    long sent = 0;
    for (RegisterClients.Request r : requests) {
      if (nodes.contains(r.node()) && keys.contains(r.key()) && r.call() >= from && r.ret() <= to) {
        sent++;
        if (r.served()) {
          served++;
        }
      }
    }
    return new long[] {served, sent};
  }

  /**
   * Polls until every node answers a quorum read of every key with 200 or 404, and returns how long
   * that took in milliseconds (the deadline fails the test).
   */
  static long awaitServing(
      NetnsCluster cluster, Collection<Integer> nodes, Collection<String> keys, int seconds)
      throws Exception {
    long start = System.nanoTime();
    StabilizationIT.within(
        seconds,
        "every node serves quorum reads of every key again",
        () -> {
          List<String> bad = new ArrayList<>();
          for (int k : nodes) {
            for (String key : keys) {
              try {
                int status = cluster.send(k, "GET", "/d/" + key, null).statusCode();
                if (status != 200 && status != 404) {
                  bad.add("node" + k + "/" + key + "=" + status);
                }
              } catch (Exception e) {
                bad.add("node" + k + "/" + key + ": " + e);
              }
            }
          }
          return bad;
        });
    return (System.nanoTime() - start) / 1_000_000;
  }

  /**
   * Quorum reads of every key through every node, added to the history: a write acknowledged before
   * and lost since makes the history non-linearizable.
   */
  static void finalReads(
      NetnsCluster cluster,
      Collection<Integer> nodes,
      Collection<String> keys,
      List<Linearizability.Op> history)
      throws Exception {
    for (int k : nodes) {
      for (String key : keys) {
        long call = System.nanoTime();
        HttpResponse<String> r = cluster.send(k, "GET", "/d/" + key, null);
        long ret = System.nanoTime();
        assertTrue(
            r.statusCode() == 200 || r.statusCode() == 404,
            "after healing, a quorum read of "
                + key
                + " through node"
                + k
                + " is served: "
                + r.statusCode()
                + " "
                + r.body());
        history.add(
            Linearizability.Op.read(key, r.statusCode() == 200 ? r.body() : null, call, ret));
      }
    }
  }

  /** Acknowledged unique writes that a quorum read through node K does not return. */
  static Map<String, String> lost(NetnsCluster cluster, int node, Map<String, String> acknowledged)
      throws Exception {
    Map<String, String> lost = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : new TreeMap<>(acknowledged).entrySet()) {
      HttpResponse<String> r = cluster.send(node, "GET", "/d/" + e.getKey(), null);
      if (r.statusCode() != 200 || !r.body().equals(e.getValue())) {
        lost.put(
            e.getKey(),
            r.statusCode()
                + " "
                + (r.statusCode() == 200 ? r.body() : "")
                + " (acked "
                + e.getValue()
                + ")");
      }
    }
    return lost;
  }

  /** A history to check holds more than this many acknowledged writes and answered reads. */
  static final int MIN_LOAD = 20;

  /** Fails, naming the key, unless the history is linearizable. */
  static void assertLinearizable(List<Linearizability.Op> history, String when) {
    long acked = RegisterClients.acknowledgedWrites(history);
    long reads = RegisterClients.reads(history);
    assertTrue(
        acked > MIN_LOAD && reads > MIN_LOAD,
        "enough load " + when + ": " + acked + " writes, " + reads + " reads");
    Linearizability.Result verdict = Linearizability.check(history);
    assertTrue(
        verdict.linearizable(),
        "history of key "
            + verdict.badKey()
            + " is not linearizable "
            + when
            + ":\n"
            + describe(history, verdict.badKey()));
  }

  /** The ops of one key in call order, for a failure message. */
  static String describe(List<Linearizability.Op> history, String key) {
    StringBuilder sb = new StringBuilder();
    long t0 = history.stream().mapToLong(Linearizability.Op::call).min().orElse(0);
    history.stream()
        .filter(op -> op.key().equals(key))
        .sorted((a, b) -> Long.compare(a.call(), b.call()))
        .limit(400)
        .forEach(
            op ->
                sb.append(
                    String.format(
                        "  %s %s %8.3f..%s%n",
                        op.kind(),
                        op.value(),
                        (op.call() - t0) / 1e9,
                        op.unknown() ? "?" : String.format("%.3f", (op.ret() - t0) / 1e9))));
    return sb.toString();
  }

  static JsonNode ring(NetnsCluster cluster, int node) throws Exception {
    return cluster.json(node, "/cluster/ring");
  }
}
