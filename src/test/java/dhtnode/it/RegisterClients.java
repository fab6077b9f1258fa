package dhtnode.it;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

/**
 * Concurrent clients that write unique values to, and read, a few keys through random nodes at the
 * default (quorum) level, recording every operation with its real-time call and return for {@link
 * Linearizability}. A write answered 503 or not answered is recorded as unknown; a failed read
 * tells nothing and is left out. Every request is also logged with the node it went to and its
 * status ({@link #requests()}), so a test can count what each node served when. With {@code
 * uniqueWrites}, every fourth operation instead writes a new key once ({@code u-C-N}); the
 * acknowledged ones are in {@link #acknowledgedUnique()}.
 */
final class RegisterClients {
  /** One request: the node it went to, status (-1: no answer), call and return in nanoTime. */
  record Request(int node, String key, boolean write, int status, long call, long ret) {
    boolean served() {
      return status == 200 || status == 404;
    }
  }

  private final NodeHttp cluster;
  private final List<String> keys;
  private final List<Integer> nodes;
  private final boolean uniqueWrites;
  private final long paceMs;
  private final List<Linearizability.Op> history = Collections.synchronizedList(new ArrayList<>());
  private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, String> acknowledgedUnique = new ConcurrentHashMap<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final ExecutorService pool;
  private final List<Future<?>> work = new ArrayList<>();

  /** Starts {@code clients} threads against nodes 1..{@code nodes}. */
  RegisterClients(NodeHttp cluster, List<String> keys, int nodes, int clients) {
    this(cluster, keys, IntStream.rangeClosed(1, nodes).boxed().toList(), clients, false);
  }

  /** Starts {@code clients} threads against the given nodes. */
  RegisterClients(
      NodeHttp cluster, List<String> keys, List<Integer> nodes, int clients, boolean uniqueWrites) {
    this(cluster, keys, nodes, clients, uniqueWrites, PACE_MS);
  }

  /**
   * Starts {@code clients} threads against the given nodes, each starting an operation at most
   * every {@code paceMs} ms.
   */
  RegisterClients(
      NodeHttp cluster,
      List<String> keys,
      List<Integer> nodes,
      int clients,
      boolean uniqueWrites,
      long paceMs) {
    this.cluster = cluster;
    this.paceMs = paceMs;
    this.keys = keys;
    this.nodes = List.copyOf(nodes);
    this.uniqueWrites = uniqueWrites;
    this.pool = Executors.newFixedThreadPool(clients);
    for (int c = 0; c < clients; c++) {
      int client = c;
      work.add(pool.submit(() -> loop(client)));
    }
  }

  private Void loop(int client) {
    Random random = new Random(client);
    int n = 0;
    while (running.get()) {
      int node = nodes.get(random.nextInt(nodes.size()));
      int choice = random.nextInt(4);
      boolean unique = uniqueWrites && choice == 0;
      String key = unique ? "u-" + client + "-" + n : keys.get(random.nextInt(keys.size()));
      long call = System.nanoTime();
      if (unique || choice % 2 == 1) {
        String value = "c" + client + "-" + n++;
        int status = -1;
        try {
          status = cluster.send(node, "PUT", "/d/" + key, value).statusCode();
        } catch (Exception e) {
          // no answer: the outcome is unknown
        }
        long ret = System.nanoTime();
        requests.add(new Request(node, key, true, status, call, ret));
        history.add(
            status == 200
                ? Linearizability.Op.write(key, value, call, ret)
                : Linearizability.Op.unknownWrite(key, value, call));
        if (unique && status == 200) {
          acknowledgedUnique.put(key, value);
        }
      } else {
        int status = -1;
        try {
          HttpResponse<String> r = cluster.send(node, "GET", "/d/" + key, null);
          long ret = System.nanoTime();
          status = r.statusCode();
          if (status == 200) {
            history.add(Linearizability.Op.read(key, r.body(), call, ret));
          } else if (status == 404) {
            history.add(Linearizability.Op.read(key, null, call, ret));
          }
        } catch (Exception e) {
          // a failed read tells nothing: left out of the history
        }
        requests.add(new Request(node, key, false, status, call, System.nanoTime()));
      }
      pace(call);
    }
    return null;
  }

  /**
   * Each client starts an operation at most every {@link #PACE_MS} ms: six clients still overlap on
   * a few keys all the time, but leave the nodes CPU to run, so that two process tests can share
   * the machine's two cores without one's load starving the other's nodes.
   */
  static final long PACE_MS = Long.getLong("dht.it.client-pace-ms", 25);

  private void pace(long callNanos) {
    if (!running.get()) {
      return;
    }
    try {
      waitOutPace(callNanos, paceMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.set(false);
    }
  }

  /**
   * Sleeps out the rest of {@code paceMs} after an operation called at {@code callNanos}
   * (nanoTime), if any is left: pacing between a client's operations, not a wait for a condition.
   */
  static void waitOutPace(long callNanos, long paceMs) throws InterruptedException {
    long wait = callNanos + TimeUnit.MILLISECONDS.toNanos(paceMs) - System.nanoTime();
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }

  /**
   * Waits (polling, up to {@code seconds}) until the history holds enough acknowledged writes and
   * answered reads for {@link Nemesis#assertLinearizable}: where half the keys wait out the request
   * timeout, a fixed stretch of load is not enough.
   */
  void awaitCheckableLoad(int seconds) throws Exception {
    StabilizationIT.within(
        seconds,
        "the clients recorded enough load to check",
        () -> {
          List<Linearizability.Op> now;
          synchronized (history) {
            now = new ArrayList<>(history);
          }
          long writes = acknowledgedWrites(now);
          long reads = reads(now);
          return writes > Nemesis.MIN_LOAD && reads > Nemesis.MIN_LOAD
              ? List.of()
              : List.of(writes + " writes, " + reads + " reads");
        });
  }

  /** Stops the clients and returns the history they recorded. */
  List<Linearizability.Op> stop() throws Exception {
    running.set(false);
    for (Future<?> f : work) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdownNow();
    return new ArrayList<>(history);
  }

  /** Every request sent so far. */
  List<Request> requests() {
    synchronized (requests) {
      return new ArrayList<>(requests);
    }
  }

  /** The unique keys whose write was acknowledged, with their value. */
  Map<String, String> acknowledgedUnique() {
    return Map.copyOf(acknowledgedUnique);
  }

  static long acknowledgedWrites(List<Linearizability.Op> history) {
    return history.stream()
        .filter(op -> op.kind() == Linearizability.Kind.WRITE && !op.unknown())
        .count();
  }

  static long reads(List<Linearizability.Op> history) {
    return history.stream().filter(op -> op.kind() == Linearizability.Kind.READ).count();
  }
}
