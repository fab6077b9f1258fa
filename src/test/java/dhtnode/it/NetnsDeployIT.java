package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three "machines" with scripts/netns-cluster.sh, as docs/deploy.md runs them: each node in its own
 * network namespace, binding 0.0.0.0, advertising its namespace's address and set up only by
 * environment variables. They form one cluster that serves quorum writes and reads, and a fourth
 * node of another cluster name, seeded at node1, is refused: it never enters their member lists or
 * ring, both sides say so in one log line, and it learns none of them. Root only (skipped
 * otherwise); the script's stop, run always, removes every namespace and process.
 */
class NetnsDeployIT implements NodeHttp {
  private static final String PREFIX = NetnsCluster.PREFIX;
  private static final int HTTP = ProcessCluster.BASE_HTTP;
  private static final int CLUSTER = ProcessCluster.BASE_CLUSTER;

  /** Namespace and interface prefix: this test JVM's own, as NetnsCluster's are. */
  private final String name =
      "dt" + ProcessCluster.FORK + "d" + ProcessHandle.current().pid() % 1000;

  private Path home;
  private Path state;

  @BeforeAll
  static void needsRoot() {
    NetnsCluster.assumeAvailable();
  }

  @Override
  public String baseUrl(int node) {
    return "http://" + PREFIX + "." + node + ":" + HTTP;
  }

  @Test
  void threeMachinesFormOneClusterAndANodeOfAnotherClusterIsRefused() throws Exception {
    Path project = Path.of("").toAbsolutePath();
    home = Files.createTempDirectory("dht-deploy-");
    state = home.resolve("run/netns");
    // a test JVM stopped early (Ctrl-C, a failsafe timeout) still removes the namespaces
    Thread hook = new Thread(this::stopQuietly, "netns-deploy-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ProcessCluster.copyTree(project.resolve("scripts"), home.resolve("scripts"));
      Files.createDirectories(home.resolve("target"));
      ProcessCluster.copyWithAttributes(
          project.resolve("target/dht-node.jar"), home.resolve("target/dht-node.jar"));

      script(Map.of(), "start", "3");
      StabilizationIT.within(
          60,
          "three nodes see each other ALIVE at their own addresses",
          () -> {
            List<String> bad = new ArrayList<>();
            for (int k = 1; k <= 3; k++) {
              JsonNode members = json(k, "/cluster/members").path("members");
              for (int j = 1; j <= 3; j++) {
                String want = "node" + j + "@" + PREFIX + "." + j + ":" + CLUSTER + " ALIVE";
                if (!describe(members).contains(want)) {
                  bad.add("node" + k + " lacks " + want + ": " + describe(members));
                }
              }
            }
            return bad;
          });
      HttpResponse<String> put = send(1, "PUT", "/d/machines?consistency=quorum", "three");
      assertEquals(200, put.statusCode(), put.body());
      HttpResponse<String> get = send(3, "GET", "/d/machines?consistency=quorum", null);
      assertEquals(200, get.statusCode(), get.body());
      assertEquals("three", get.body());

      // a fourth machine, configured for another cluster, with node1 as its seed
      script(Map.of("DHT_CLUSTER_NAME", "other"), "add", "4");
      StabilizationIT.within(
          30,
          "node4 is refused, and says so",
          () -> {
            List<String> bad = new ArrayList<>();
            if (!log(4).contains("refused this node's JOIN: it belongs to cluster \"dht\"")) {
              bad.add("node4 does not log its refusal");
            }
            if (!log(1).contains("refused JOIN from node4")) {
              bad.add("node1 does not log the refusal");
            }
            return bad;
          });
      for (int k = 1; k <= 3; k++) {
        String members = describe(json(k, "/cluster/members").path("members"));
        assertTrue(!members.contains("node4"), "node" + k + " took node4 in: " + members);
        assertEquals(3, json(k, "/cluster/ring").path("members").size(), "node" + k + "'s ring");
      }
      String fourth = describe(json(4, "/cluster/members").path("members"));
      assertTrue(fourth.startsWith("node4@") && !fourth.contains(","), "node4 alone: " + fourth);
      // node4 kept retrying meanwhile (one JOIN a second): still one line on each side
      assertEquals(1, count(log(1), "refused JOIN from node4"), "node1's refusal lines");
      assertEquals(1, count(log(4), "refused this node's JOIN"), "node4's refusal lines");
    } finally {
      Runtime.getRuntime().removeShutdownHook(hook);
      stopAndCheckClean();
    }
  }

  private void stopQuietly() {
    try {
      script(Map.of(), "stop");
    } catch (Exception e) {
      System.err.println("NetnsDeployIT: netns-cluster.sh stop failed: " + e);
    }
  }

  /** name@host:port STATUS of each member, comma-separated. */
  private static String describe(JsonNode members) {
    List<String> out = new ArrayList<>();
    for (JsonNode m : members) {
      out.add(
          m.path("name").asText()
              + "@"
              + m.path("host").asText()
              + ":"
              + m.path("clusterPort").asInt()
              + " "
              + m.path("status").asText());
    }
    return String.join(", ", out);
  }

  private JsonNode json(int node, String path) throws IOException, InterruptedException {
    HttpResponse<String> r = send(node, "GET", path, null);
    if (r.statusCode() != 200) {
      throw new IOException("GET " + path + " on node" + node + ": " + r.statusCode());
    }
    return NetnsCluster.JSON.readTree(r.body());
  }

  private String log(int node) throws IOException {
    Path log = state.resolve("node" + node + ".log");
    return Files.isRegularFile(log) ? Files.readString(log) : "";
  }

  private static long count(String text, String line) {
    return text.lines().filter(l -> l.contains(line)).count();
  }

  /** Runs scripts/netns-cluster.sh of the copy with this test's layout; fails unless it exits 0. */
  private String script(Map<String, String> env, String... args) throws Exception {
    long start = System.nanoTime();
    List<String> cmd =
        new ArrayList<>(List.of(home.resolve("scripts/netns-cluster.sh").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true);
    Map<String, String> e = builder.environment();
    e.keySet().removeIf(k -> k.startsWith("DHT_"));
    e.put("NETNS_NAME", name);
    e.put("NETNS_PREFIX", PREFIX);
    e.put("HTTP_PORT", Integer.toString(HTTP));
    e.put("CLUSTER_PORT", Integer.toString(CLUSTER));
    e.put("NETNS_STATE", state.toString());
    e.put("JAVA_OPTS", NodeJvm.javaOpts());
    // a bound, not a wait (as NetnsCluster's): on a loaded 2-core machine a node may take minutes
    e.put("START_TIMEOUT", "300");
    e.putAll(env);
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(600, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "netns-cluster.sh " + String.join(" ", args) + " hung:\n" + out);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          "netns-cluster.sh " + String.join(" ", args) + " failed:\n" + out);
    }
    ProcessCluster.phase("netns-cluster.sh " + String.join(" ", args), start);
    return out;
  }

  /**
   * The script's stop, then a check that nothing of this test is left: no namespace, no link, no
   * node process. Whatever stop missed is removed here (and fails the test), so a broken stop never
   * leaves a machine dirty. Logs are kept under target/it-logs/NetnsDeployIT.
   */
  private void stopAndCheckClean() throws Exception {
    List<String> left = new ArrayList<>();
    try {
      script(Map.of(), "stop");
    } catch (RuntimeException e) {
      left.add("stop failed: " + e.getMessage());
    }
    for (String ns : NetnsCluster.run(false, "ip", "netns", "list").split("\n")) {
      String nsName = ns.split(" ")[0];
      if (nsName.startsWith(name + "-")) {
        left.add("namespace " + nsName);
        for (String pid : NetnsCluster.run(false, "ip", "netns", "pids", nsName).split("\\s+")) {
          if (pid.matches("\\d+")) {
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
        NetnsCluster.run(false, "ip", "netns", "del", nsName);
      }
    }
    String links = NetnsCluster.run(false, "ip", "-o", "link", "show");
    for (String line : links.split("\n")) {
      String[] fields = line.split(":\\s+");
      if (fields.length > 1 && fields[1].split("@")[0].startsWith(name)) {
        String link = fields[1].split("@")[0];
        left.add("link " + link);
        NetnsCluster.run(false, "ip", "link", "del", link);
      }
    }
    Path logs = Path.of("target/it-logs/NetnsDeployIT").toAbsolutePath();
    Files.createDirectories(logs);
    if (Files.isDirectory(state)) {
      try (var files = Files.list(state)) {
        for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
          Files.copy(f, logs.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    ProcessCluster.deleteTree(home);
    assertTrue(left.isEmpty(), "netns-cluster.sh stop left " + left);
  }
}
