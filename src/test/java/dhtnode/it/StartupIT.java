package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node with a bad config refuses to start, with one line that names the key to fix. */
class StartupIT {

  /** Runs the jar with {@code conf} and returns its output, asserting exit status 2 at once. */
  private static String refused(Path conf) throws Exception {
    Process p =
        new ProcessBuilder(
                List.of(
                    "java",
                    "-Dconfig.file=" + conf,
                    "-jar",
                    Path.of("target/dht-node.jar").toAbsolutePath().toString()))
            .redirectErrorStream(true)
            .start();
    try {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the node exits instead of running");
      String out = new String(p.getInputStream().readAllBytes()).trim();
      assertEquals(2, p.exitValue(), out);
      assertEquals(1, out.lines().count(), out);
      return out;
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aConfigFileWithoutTheIncludeRefusesToStartSayingWhatToAdd(@TempDir Path dir)
      throws Exception {
    Path conf = dir.resolve("no-include.conf");
    Files.writeString(
        conf,
        "dht.node { name = \"nodeX\", http-port = 8098, cluster-port = 7098, data-dir = \""
            + dir
            + "/data\" }\n");
    String out = refused(conf);
    assertTrue(
        out.contains("akka.actor.provider is \"local\"")
            && out.contains("include required(classpath(\"application\"))"),
        out);
  }

  @Test
  void bindingEveryInterfaceWithoutAnAdvertisedAddressRefusesToStart(@TempDir Path dir)
      throws Exception {
    Path conf = dir.resolve("wildcard.conf");
    Files.writeString(
        conf,
        "include required(classpath(\"application\"))\n"
            + "dht.node { name = \"nodeX\", bind-host = \"0.0.0.0\", http-port = 8098,"
            + " cluster-port = 7098, data-dir = \""
            + dir
            + "/data\" }\n");
    String out = refused(conf);
    assertTrue(out.contains("dht.node.advertise-host") && out.contains("refusing to start"), out);
  }

  @Test
  void aBadConfigFileRefusesToStartNamingTheKey(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("bad.conf");
    Files.writeString(
        conf,
        "include required(classpath(\"application\"))\n"
            + "dht.node { name = \"nodeX\", http-port = 8097, cluster-port = 7097, data-dir = \""
            + dir
            + "/data\" }\n"
            + "dht.replication { factor = 3, read-quorum = 1, write-quorum = 2 }\n");
    String out = refused(conf);
    assertTrue(
        out.contains("dht.replication.read-quorum") && out.contains("refusing to start"), out);
  }
}
