package dhtnode.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real cluster of node processes for process-level tests, run from a temporary copy of the
 * project's scripts, conf and built jar (so run/ and data/ never touch the work tree), with the
 * project's own scripts. {@link #close()} always kills every process it started, by pid.
 */
final class ProcessCluster implements NodeHttp, AutoCloseable {
  final Path home;
  private final double testJvmCpuAtStart;

  /**
   * Which of the test JVMs running process tests side by side this is (1, 2, ...; failsafe's fork
   * number, plus {@code dht.it.fork-shift} when two runs share a machine): each gets its own ports
   * and network prefix.
   */
  static final int FORK =
      Integer.getInteger("dht.it.fork", 1) + Integer.getInteger("dht.it.fork-shift", 0);

  /**
   * Node K listens on HTTP {@code BASE_HTTP + K - 1} and cluster port {@code BASE_CLUSTER + K - 1}:
   * not the demo's 8000/7000, so a test never collides with a cluster a developer has running; 10
   * higher in each further test JVM (a cluster has at most 8 nodes). With 100 per JVM, fork K + 10
   * took cluster ports equal to fork K's HTTP ports, so two runs 10 shifts apart collided; with 10,
   * forks 1-100 keep HTTP in 18000-18999 and cluster ports in 17000-17999.
   */
  static final int BASE_HTTP = Integer.getInteger("dht.it.http-base", 18000) + 10 * (FORK - 1);

  static final int BASE_CLUSTER =
      Integer.getInteger("dht.it.cluster-base", 17000) + 10 * (FORK - 1);

  ProcessCluster() throws IOException {
    this("");
  }

  /**
   * @param extraConf HOCON lines appended to every node's conf file (e.g. shorter intervals)
   */
  ProcessCluster(String extraConf) throws IOException {
    assertPortsFree();
    testJvmCpuAtStart = testJvmCpuSeconds();
    Path project = Path.of("").toAbsolutePath();
    home = Files.createTempDirectory("dht-it-");
    copyTree(project.resolve("scripts"), home.resolve("scripts"));
    Files.createDirectories(home.resolve("conf"));
    for (int k = 1; k <= 8; k++) {
      // the shipped conf files with only the ports (and so the seed) moved
      String conf =
          NodeHttp.nodeConf(
              project,
              k,
              BASE_HTTP,
              BASE_CLUSTER,
              "dht.node.seeds = [\"127.0.0.1:" + BASE_CLUSTER + "\"]\n" + extraConf);
      Files.writeString(home.resolve("conf/node" + k + ".conf"), conf);
    }
    Files.createDirectories(home.resolve("target"));
    copyWithAttributes(project.resolve("target/dht-node.jar"), home.resolve("target/dht-node.jar"));
  }

  /**
   * The jar (or any file) at {@code to} as it is at {@code from}, same size and modification time,
   * so the class-data-sharing archive still fits it: a hard link where both are on one file system
   * (the jar is 76 MB, and the suite makes some twenty clusters), else a copy. Nothing writes to a
   * cluster's jar, so sharing the file is safe.
   */
  static void copyWithAttributes(Path from, Path to) throws IOException {
    try {
      Files.createLink(to, from);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
    }
  }

  /**
   * Fails at once if a port of this cluster is taken: the scripts would find whatever listens there
   * answering /health, and the test would talk to another cluster (another test JVM's, or a
   * leftover) instead of its own.
   */
  static void assertPortsFree() throws IOException {
    for (int k = 0; k < 8; k++) {
      for (int port : new int[] {BASE_HTTP + k, BASE_CLUSTER + k}) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
          probe.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        } catch (java.net.BindException e) {
          throw new IllegalStateException(
              "port "
                  + port
                  + " is in use: a process test needs "
                  + BASE_HTTP
                  + "-"
                  + (BASE_HTTP + 7)
                  + " and "
                  + BASE_CLUSTER
                  + "-"
                  + (BASE_CLUSTER + 7)
                  + " free (test JVM "
                  + FORK
                  + "; -Ddht.it.http-base / -Ddht.it.cluster-base move them)");
        }
      }
    }
  }

  /** Appends HOCON lines to node K's conf file (read at its next start), e.g. a clock offset. */
  void appendConf(int node, String hocon) throws IOException {
    Path conf = home.resolve("conf/node" + node + ".conf");
    Files.writeString(conf, Files.readString(conf) + hocon + "\n");
  }

  /** Stops node K gracefully (SIGTERM) and waits, with a deadline, until its process has exited. */
  void stop(int node) throws IOException, InterruptedException {
    signalAndAwaitExit(node, "TERM");
  }

  /**
   * Kills node K (SIGKILL) and waits, with a deadline, until its process has exited: a JVM takes a
   * moment to die after the signal, and a restart that finds it still alive skips the node.
   */
  void kill(int node) throws IOException, InterruptedException {
    signalAndAwaitExit(node, "KILL");
  }

  private void signalAndAwaitExit(int node, String signal)
      throws IOException, InterruptedException {
    long pid = Long.parseLong(Files.readString(home.resolve("run/node" + node + ".pid")).trim());
    signal(node, signal);
    ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
    if (handle != null) {
      try {
        handle.onExit().get(60, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException(
            "node" + node + " (pid " + pid + ") did not exit on SIG" + signal, e);
      }
    }
  }

  /** Runs a script of the copy and returns its output; fails if it exits non-zero. */
  String script(String... command) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(command));
    cmd.set(0, home.resolve(cmd.get(0)).toString());
    long start = System.nanoTime();
    ProcessBuilder builder =
        new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true);
    builder.environment().put("JAVA_OPTS", NodeJvm.javaOpts());
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out + logs());
    }
    phase(String.join(" ", command), start);
    return out;
  }

  /** A finished command: its exit status and its output (stdout and stderr together). */
  record Run(int exit, String output) {}

  /** Runs a script of the copy (e.g. scripts/dhtctl) whatever it exits with, within a minute. */
  Run run(String... command) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(command));
    cmd.set(0, home.resolve(cmd.get(0)).toString());
    Process p = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(
          String.join(" ", command) + " did not finish in 60 s:\n" + out);
    }
    return new Run(p.exitValue(), out);
  }

  /**
   * One line on the test's output per finished phase that took half a second or more, and how long
   * it took, so a slow suite shows where its time goes.
   */
  static void phase(String what, long startNanos) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    if (seconds >= 0.5) {
      System.out.printf("[it] %6.1f s  %s%n", seconds, what);
    }
  }

  String logs() throws IOException {
    StringBuilder out = new StringBuilder();
    Path run = home.resolve("run");
    if (Files.isDirectory(run)) {
      try (Stream<Path> files = Files.list(run)) {
        for (Path log : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
          out.append("\n--- ").append(log.getFileName()).append('\n').append(Files.readString(log));
        }
      }
    }
    return out.toString();
  }

  @Override
  public String baseUrl(int node) {
    return "http://127.0.0.1:" + (BASE_HTTP + node - 1);
  }

  /** Sends a signal ("STOP", "CONT", "KILL", "TERM") to node K's process, by its pid file. */
  void signal(int node, String signal) throws IOException, InterruptedException {
    long pid = Long.parseLong(Files.readString(home.resolve("run/node" + node + ".pid")).trim());
    Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
    }
  }

  /** CPU seconds this test JVM has used so far (its clients, checkers and JIT included). */
  private static double testJvmCpuSeconds() {
    return ProcessHandle.current()
        .info()
        .totalCpuDuration()
        .map(d -> d.toMillis() / 1000.0)
        .orElse(0.0);
  }

  /** CPU seconds (user and system) the given processes have used so far, from /proc. */
  static double cpuSeconds(List<Long> pids) {
    long ticks = 0;
    for (long pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // fields after the command name, which is in parentheses and may hold spaces
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
      } catch (IOException | RuntimeException e) {
        // a process that just exited, or no /proc: counted as nothing
      }
    }
    return ticks / 100.0; // USER_HZ is 100 on Linux
  }

  /** Pids of the nodes the scripts started that are still alive. */
  List<Long> livePids() throws IOException {
    List<Long> pids = new ArrayList<>();
    Path run = home.resolve("run");
    if (!Files.isDirectory(run)) {
      return pids;
    }
    try (Stream<Path> files = Files.list(run)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".pid")).toList()) {
        long pid = Long.parseLong(Files.readString(f).trim());
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          pids.add(pid);
        }
      }
    }
    return pids;
  }

  /**
   * Kills every node still running (SIGKILL, by pid) and waits until each has exited, then deletes
   * the copy. The data goes with it, so a graceful stop would only cost time: ClusterScriptsIT
   * tests {@code scripts/stop-cluster.sh} itself.
   */
  @Override
  public void close() throws IOException {
    List<ProcessHandle> killed = new ArrayList<>();
    List<Long> pids = livePids();
    System.out.printf(
        "[it] %6.1f s  CPU used by the %d nodes still running at the end,"
            + " %.1f s by this test JVM since the cluster was made%n",
        cpuSeconds(pids), pids.size(), testJvmCpuSeconds() - testJvmCpuAtStart);
    for (long pid : pids) {
      ProcessHandle.of(pid)
          .ifPresent(
              h -> {
                h.destroyForcibly();
                killed.add(h);
              });
    }
    for (ProcessHandle h : killed) {
      try {
        h.onExit().get(30, TimeUnit.SECONDS); // its ports are free once it has exited
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        System.out.println("[it] pid " + h.pid() + " did not exit within 30 s of SIGKILL");
      }
    }
    if (livePids().isEmpty()) {
      deleteTree(home);
    }
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
