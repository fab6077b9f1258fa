package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cluster of node processes with real network partitions between them: node K runs in its own
 * network namespace {@code dhtit-<pid>-<n>-K} with the address {@code <prefix>.K/24} on a veth pair
 * whose other end is on a bridge in the root namespace ({@code <prefix>.254}), so its HTTP, SWIM
 * (UDP) and Akka Artery (TCP) traffic all leave through that one interface. {@link #partition} cuts
 * links by blackhole routes inside the namespaces (packets to the other side are dropped at the
 * sender, in both directions); the test JVM in the root namespace still reaches every node's REST
 * API, so clients on "the wrong side" simply see 503s.
 *
 * <p>Only addresses inside the namespaces it created are used ({@code -Ddht.it.netns-prefix},
 * default {@code 10.231.7}: an unusual private /24). Needs root and {@code ip netns}: use {@link
 * #assumeAvailable()} to skip a test class otherwise. {@link #close()} (also run by a JVM shutdown
 * hook) always kills every node process, deletes the routes, veths, bridge and namespaces and the
 * temporary directory, keeping the node logs under {@code target/it-logs/}.
 */
final class NetnsCluster implements NodeHttp, AutoCloseable {
  /**
   * The /24 the namespaces' addresses come from: 10.231.7 in the first test JVM, .8 in the next.
   */
  static final String PREFIX =
      System.getProperty("dht.it.netns-prefix", "10.231." + (6 + ProcessCluster.FORK));

  static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  final Path home;
  private final Path project = Path.of("").toAbsolutePath();
  private final String label;
  private final int size;
  private final String tag;
  private final String bridge;
  private final Map<Integer, Process> processes = new TreeMap<>();
  private final Set<Integer> everStarted = new LinkedHashSet<>();
  private final List<int[]> routes = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread hook = new Thread(this::closeQuietly, "netns-cluster-cleanup");

  /** Skips the calling test class unless this JVM runs as root with a working {@code ip netns}. */
  static void assumeAvailable() {
    String uid = run(false, "id", "-u").trim();
    assumeTrue(
        uid.equals("0"),
        "NetnsCluster needs root to create network namespaces (uid is "
            + uid
            + "); CI runs as root");
    String netns = run(false, "ip", "netns", "list");
    // as root (CI) a missing iproute2 fails rather than skips: the partition scenarios must run
    assertTrue(
        !netns.startsWith("exit "),
        "NetnsCluster needs `ip netns`: apt-get install -y iproute2 ("
            + netns
            + "); .ci/run installs it");
  }

  /**
   * Creates namespaces, veths and the bridge for nodes 1..{@code size} (none started yet).
   *
   * @param label names the kept logs (target/it-logs/label)
   * @param extraConf HOCON lines appended to every node's conf file
   */
  NetnsCluster(String label, int size, String extraConf) throws IOException {
    this.label = label;
    this.size = size;
    int n = INSTANCES.getAndIncrement() % 10;
    long pid = ProcessHandle.current().pid();
    this.tag = pid + "-" + n;
    this.bridge = "dt" + pid + n + "b"; // interface names are at most 15 characters
    home = Files.createTempDirectory("dht-netns-");
    Runtime.getRuntime().addShutdownHook(hook);
    String inUse = run(false, "ip", "-4", "route", "show", PREFIX + ".0/24");
    if (!inUse.isBlank()) {
      throw new IllegalStateException(
          PREFIX
              + ".0/24 is already routed here ("
              + inUse.trim()
              + "): another run, or a leftover of a killed one; delete it or set -Ddht.it.netns-prefix");
    }
    try {
      ip("link", "add", bridge, "type", "bridge");
      ip("addr", "add", PREFIX + ".254/24", "dev", bridge);
      ip("link", "set", bridge, "up");
      for (int k = 1; k <= size; k++) {
        String ns = namespace(k);
        String veth = "dt" + pid + n + "v" + k;
        ip("netns", "add", ns);
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        ip("link", "set", veth, "master", bridge);
        ip("link", "set", veth, "up");
        ip("-n", ns, "addr", "add", address(k) + "/24", "dev", "eth0");
        ip("-n", ns, "link", "set", "eth0", "up");
        ip("-n", ns, "link", "set", "lo", "up");
      }
      Files.createDirectories(home.resolve("conf"));
      Files.createDirectories(home.resolve("run"));
      Files.createDirectories(home.resolve("target"));
      for (int k = 1; k <= size; k++) {
        // the shipped conf file, bound to the namespace's address, seeding node1; the data dir
        // (data/nodeK) is relative to the temporary home the process runs in
        String conf =
            NodeHttp.nodeConf(
                project,
                k,
                ProcessCluster.BASE_HTTP,
                ProcessCluster.BASE_CLUSTER,
                "dht.node.host = \""
                    + address(k)
                    + "\"\n"
                    + "dht.node.seeds = [\""
                    + address(1)
                    + ":"
                    + ProcessCluster.BASE_CLUSTER
                    + "\"]\n"
                    + extraConf);
        Files.writeString(home.resolve("conf/node" + k + ".conf"), conf);
      }
      ProcessCluster.copyWithAttributes(
          project.resolve("target/dht-node.jar"), home.resolve("target/dht-node.jar"));
    } catch (RuntimeException | IOException e) {
      closeQuietly();
      throw e;
    }
  }

  String namespace(int k) {
    return "dhtit-" + tag + "-" + k;
  }

  static String address(int k) {
    return PREFIX + "." + k;
  }

  @Override
  public String baseUrl(int node) {
    return "http://" + address(node) + ":" + (ProcessCluster.BASE_HTTP + node - 1);
  }

  /**
   * Starts the given nodes in their namespaces and returns once every node started so far answers,
   * has all of them in its ring and is settled. Node1 founds the cluster on its first start, as
   * scripts/start-cluster.sh does for a fresh cluster; every later start joins.
   */
  void start(Collection<Integer> nodes) throws Exception {
    for (int k : nodes) {
      if (processes.containsKey(k) && processes.get(k).isAlive()) {
        continue;
      }
      List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace(k), "java"));
      cmd.addAll(NodeJvm.options());
      if (k == 1 && everStarted.isEmpty()) {
        cmd.add("-Ddht.ring.found-cluster=on");
      }
      cmd.addAll(List.of("-Dconfig.file=conf/node" + k + ".conf", "-jar", "target/dht-node.jar"));
      Path log = home.resolve("run/node" + k + ".log");
      Process p =
          new ProcessBuilder(cmd)
              .directory(home.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      processes.put(k, p);
      everStarted.add(k);
    }
    // a bound, not a wait: on a loaded 2-core machine five JVMs take a minute just to bind
    awaitSettled(running(), 300);
  }

  /** Nodes whose process is alive. */
  List<Integer> running() {
    return processes.entrySet().stream()
        .filter(e -> e.getValue().isAlive())
        .map(Map.Entry::getKey)
        .toList();
  }

  /** Waits until each node answers, holds all of {@code nodes} in its ring and is settled. */
  void awaitSettled(List<Integer> nodes, int seconds) throws Exception {
    StabilizationIT.within(
        seconds,
        "nodes " + nodes + " are up, in every ring and settled",
        () -> {
          List<String> bad = new ArrayList<>();
          for (int k : nodes) {
            if (!processes.get(k).isAlive()) {
              throw new IllegalStateException("node" + k + " exited during start:" + tail(k, 30));
            }
            try {
              JsonNode ring = json(k, "/cluster/ring");
              JsonNode stab = json(k, "/cluster/stabilization");
              for (int other : nodes) {
                if (!ring.path("members").toString().contains("\"node" + other + "\"")) {
                  bad.add("node" + k + " lacks node" + other);
                }
              }
              if (!stab.path("settled").asBoolean()) {
                bad.add("node" + k + " not settled");
              }
            } catch (IOException e) {
              bad.add("node" + k + ": " + e);
            }
          }
          return bad;
        });
  }

  JsonNode json(int node, String path) throws IOException, InterruptedException {
    HttpResponse<String> r = send(node, "GET", path, null);
    if (r.statusCode() != 200) {
      throw new IOException(
          "GET " + path + " on node" + node + ": " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** kill -9 of node K's process (for good, or until it is started again). */
  void kill(int k) throws InterruptedException {
    Process p = processes.get(k);
    p.destroyForcibly();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("node" + k + " (pid " + p.pid() + ") survived kill -9");
    }
  }

  /**
   * Cuts every link between a node of {@code sideA} and a node of {@code sideB}, both ways: each
   * namespace gets a blackhole route to each address of the other side.
   */
  void partition(Set<Integer> sideA, Set<Integer> sideB) {
    for (int a : sideA) {
      for (int b : sideB) {
        blackhole(a, b);
        blackhole(b, a);
      }
    }
  }

  /** Cuts node K off from every other node of the cluster (the test JVM still reaches it). */
  void isolate(int k) {
    Set<Integer> others = new LinkedHashSet<>();
    for (int j = 1; j <= size; j++) {
      if (j != k) {
        others.add(j);
      }
    }
    partition(Set.of(k), others);
  }

  /** Deletes every route {@link #partition} added. */
  void heal() {
    List<int[]> added = new ArrayList<>(routes);
    routes.clear();
    for (int[] route : added) {
      run(
          true,
          "ip",
          "netns",
          "exec",
          namespace(route[0]),
          "ip",
          "route",
          "del",
          "blackhole",
          address(route[1]) + "/32");
    }
  }

  private void blackhole(int from, int to) {
    run(
        true,
        "ip",
        "netns",
        "exec",
        namespace(from),
        "ip",
        "route",
        "add",
        "blackhole",
        address(to) + "/32");
    routes.add(new int[] {from, to});
  }

  /** The last lines of node K's log. */
  String tail(int k, int lines) {
    try {
      List<String> all = Files.readAllLines(home.resolve("run/node" + k + ".log"));
      return "\n--- node"
          + k
          + ".log (last "
          + lines
          + " lines)\n"
          + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "\n--- node" + k + ".log unreadable: " + e;
    }
  }

  @Override
  public void close() {
    closeQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook is running or has run
    }
  }

  private void closeQuietly() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    routes.clear(); // deleted with their namespaces
    List<Long> pids = new ArrayList<>();
    for (Process p : processes.values()) {
      if (p.isAlive()) {
        pids.add(p.pid());
      }
    }
    System.out.printf(
        "[it] %6.1f s  CPU used by the %d nodes still running at the end%n",
        ProcessCluster.cpuSeconds(pids), pids.size());
    for (Process p : processes.values()) {
      p.destroyForcibly();
    }
    for (int k = 1; k <= size; k++) {
      // anything else still running in the namespace (by pid, as `ip netns pids` lists them)
      for (String pid : run(false, "ip", "netns", "pids", namespace(k)).split("\\s+")) {
        if (pid.matches("\\d+")) {
          ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    }
    for (Process p : processes.values()) {
      try {
        p.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (int k = 1; k <= size; k++) {
      run(
          false,
          "ip",
          "netns",
          "del",
          namespace(k)); // takes its end of the veth pair, and so the pair
    }
    run(false, "ip", "link", "del", bridge);
    try {
      Path logs = project.resolve("target/it-logs/" + label);
      Files.createDirectories(logs);
      if (Files.isDirectory(home.resolve("run"))) {
        try (var files = Files.list(home.resolve("run"))) {
          for (Path f : files.toList()) {
            Files.copy(f, logs.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
      ProcessCluster.deleteTree(home);
    } catch (IOException e) {
      System.err.println("NetnsCluster: could not keep logs or delete " + home + ": " + e);
    }
  }

  /**
   * Runs a command and returns its output; with {@code check}, fails unless it exits 0, else
   * returns {@code "exit N: output"} on failure.
   */
  static String run(boolean check, String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish");
      }
      if (p.exitValue() != 0) {
        if (check) {
          throw new IllegalStateException(
              String.join(" ", command) + " failed (" + p.exitValue() + "): " + out);
        }
        return "exit " + p.exitValue() + ": " + out;
      }
      return out;
    } catch (IOException e) {
      if (check) {
        throw new IllegalStateException(String.join(" ", command) + ": " + e, e);
      }
      return "exit -1: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void ip(String... args) {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "ip";
    System.arraycopy(args, 0, cmd, 1, args.length);
    run(true, cmd);
  }
}
