package dhtnode.it;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Concurrent clients that write unique values to, and read, a few keys through random nodes at
 * the default (quorum) level, recording every operation with its real-time call and return for
 * {@link Linearizability}. A write answered 503 or not answered is recorded as unknown; a failed
 * read tells nothing and is left out.
 */
final class RegisterClients {
  private final ProcessCluster cluster;
  private final List<String> keys;
  private final int nodes;
  private final List<Linearizability.Op> history = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final ExecutorService pool;
  private final List<Future<?>> work = new ArrayList<>();

  /** Starts {@code clients} threads against nodes 1..{@code nodes}. */
  RegisterClients(ProcessCluster cluster, List<String> keys, int nodes, int clients) {
    this.cluster = cluster;
    this.keys = keys;
    this.nodes = nodes;
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
      String key = keys.get(random.nextInt(keys.size()));
      int node = 1 + random.nextInt(nodes);
      long call = System.nanoTime();
      if (random.nextBoolean()) {
        String value = "c" + client + "-" + n++;
        try {
          int status = cluster.send(node, "PUT", "/d/" + key, value).statusCode();
          history.add(status == 200
              ? Linearizability.Op.write(key, value, call, System.nanoTime())
              : Linearizability.Op.unknownWrite(key, value, call));
        } catch (Exception e) {
          history.add(Linearizability.Op.unknownWrite(key, value, call));
        }
      } else {
        try {
          HttpResponse<String> r = cluster.send(node, "GET", "/d/" + key, null);
          long ret = System.nanoTime();
          if (r.statusCode() == 200) {
            history.add(Linearizability.Op.read(key, r.body(), call, ret));
          } else if (r.statusCode() == 404) {
            history.add(Linearizability.Op.read(key, null, call, ret));
          }
        } catch (Exception e) {
          // a failed read tells nothing: leave it out
        }
      }
    }
    return null;
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

  static long acknowledgedWrites(List<Linearizability.Op> history) {
    return history.stream().filter(op -> op.kind() == Linearizability.Kind.WRITE && !op.unknown()).count();
  }

  static long reads(List<Linearizability.Op> history) {
    return history.stream().filter(op -> op.kind() == Linearizability.Kind.READ).count();
  }
}
