package dhtnode.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The JVM options of every node process the tests start. The process tests start some fifty nodes
 * on a 2-core machine, and a node's start is mostly class loading and JIT compiling: measured on
 * that machine, about 8 s of CPU to answer /health with the default options, about 5 s with only
 * the C1 compiler and the serial collector, and about 3 s when its classes also come from a
 * class-data-sharing archive. So the tests run nodes that way; the shipped scripts keep the default
 * options, which serve best once warm.
 *
 * <p>The archive is made once per jar (named by its size and modification time) by starting one
 * node with {@code -XX:ArchiveClassesAtExit}, sending it a write and a read (whatever they answer),
 * and stopping it. The test JVMs running side by side share it: the first to need it makes it under
 * a file lock while the other waits for it, since a second dump would only compete for the CPU. A
 * node uses it only with an identical jar (same size and modification time: copies must keep them);
 * with {@code -Xshare:auto} a node whose jar differs, or a failed dump, just starts without it.
 */
final class NodeJvm {
  private static final List<String> BASE =
      List.of(
          "-Xms64m",
          "-Xmx256m",
          // fewer GC and compiler threads, and no C2 compiles: several JVMs share two cores
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-Xshare:auto");

  private static List<String> options;

  private NodeJvm() {}

  /** The options for a node running {@code target/dht-node.jar} of the project. */
  static synchronized List<String> options() {
    if (options == null) {
      List<String> opts = new ArrayList<>(BASE);
      Path archive = archive();
      if (archive != null) {
        opts.add("-XX:SharedArchiveFile=" + archive);
      }
      options = List.copyOf(opts);
    }
    return options;
  }

  /** The options as one string, for the scripts' {@code JAVA_OPTS}. */
  static String javaOpts() {
    return String.join(" ", options());
  }

  /**
   * The archive for the project's current jar, made now unless an earlier test JVM made it, or null
   * (having said why) if it cannot be made.
   */
  private static Path archive() {
    Path project = Path.of("").toAbsolutePath();
    Path jar = project.resolve("target/dht-node.jar");
    Path dir = project.resolve("target/it-cds");
    try {
      Files.createDirectories(dir);
      String name =
          "dht-node-" + Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis() + ".jsa";
      Path archive = dir.resolve(name);
      try (FileChannel lockFile =
              FileChannel.open(
                  dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = lockFile.lock()) {
        if (Files.isRegularFile(archive)) {
          return archive;
        }
        try (Stream<Path> old = Files.list(dir)) {
          for (Path p : old.filter(p -> p.toString().endsWith(".jsa")).toList()) {
            Files.delete(p); // made for an older jar: no node can use it
          }
        }
        Path made = makeArchive(project, jar, dir.resolve(name + ".part"));
        if (made == null) {
          return null;
        }
        Files.move(made, archive, StandardCopyOption.ATOMIC_MOVE);
        return archive;
      }
    } catch (IOException e) {
      System.out.println("[it] nodes start without a class-data-sharing archive: " + e);
      return null;
    }
  }

  /** Dumps an archive for {@code jar} to {@code archive}, or answers null (and says why). */
  private static Path makeArchive(Path project, Path jar, Path archive) {
    Path home = null;
    Process node = null;
    long start = System.nanoTime();
    try {
      Files.deleteIfExists(archive);
      home = Files.createTempDirectory("dht-it-cds-");
      Files.createDirectories(home.resolve("target"));
      ProcessCluster.copyWithAttributes(jar, home.resolve("target/dht-node.jar"));
      int port = ProcessCluster.BASE_HTTP;
      Files.writeString(
          home.resolve("node.conf"),
          NodeHttp.nodeConf(
              project,
              1,
              port,
              ProcessCluster.BASE_CLUSTER,
              "dht.node.seeds = [\"127.0.0.1:" + ProcessCluster.BASE_CLUSTER + "\"]"));
      List<String> cmd = new ArrayList<>(List.of("java"));
      cmd.addAll(BASE);
      cmd.addAll(
          List.of(
              "-XX:ArchiveClassesAtExit=" + archive,
              "-Ddht.ring.found-cluster=on",
              "-Dconfig.file=node.conf",
              "-jar",
              "target/dht-node.jar"));
      node =
          new ProcessBuilder(cmd)
              .directory(home.toFile())
              .redirectErrorStream(true)
              .redirectOutput(home.resolve("node.log").toFile())
              .start();
      String url = "http://127.0.0.1:" + port;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      // any answer will do (a lone node may refuse a quorum write): the request path's classes load
      while (!answers(url + "/d/cds-warmup", "PUT") || !answers(url + "/d/cds-warmup", "GET")) {
        if (!node.isAlive() || System.nanoTime() > deadline) {
          throw new IOException(
              "the archiving node did not serve a write and a read; see its log:\n"
                  + Files.readString(home.resolve("node.log")));
        }
        Thread.sleep(200); // pacing between polls; the deadline bounds the wait
      }
      node.destroy(); // SIGTERM: the archive is written as the JVM exits
      if (!node.waitFor(60, TimeUnit.SECONDS) || !Files.isRegularFile(archive)) {
        throw new IOException("the archiving node exited without writing " + archive);
      }
      ProcessCluster.phase("class-data-sharing archive for the test nodes", start);
      return archive;
    } catch (IOException | InterruptedException e) {
      System.out.println(
          "[it] nodes start without a class-data-sharing archive: " + e.getMessage());
      return null;
    } finally {
      if (node != null && node.isAlive()) {
        node.destroyForcibly();
      }
      if (home != null) {
        try {
          ProcessCluster.deleteTree(home);
        } catch (IOException e) {
          // a temporary directory left behind is harmless
        }
      }
    }
  }

  private static boolean answers(String url, String method) {
    try {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(Duration.ofSeconds(5))
              .method(
                  method,
                  "PUT".equals(method) ? BodyPublishers.ofString("x") : BodyPublishers.noBody())
              .build();
      NodeHttp.HTTP.send(request, BodyHandlers.discarding());
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
