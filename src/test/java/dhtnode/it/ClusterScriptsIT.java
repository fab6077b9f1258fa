package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The README's promise, end to end: scripts/start-cluster.sh brings up three node processes, CRUD
 * works on each, and after stop-cluster.sh and a new start every value is still there.
 */
class ClusterScriptsIT {

  @Test
  void crudOnEveryNodeAndDataSurvivesARestart() throws Exception {
    try (ProcessCluster cluster = new ProcessCluster()) {
      String out = cluster.script("scripts/start-cluster.sh", "3");
      assertTrue(out.contains("http://127.0.0.1:" + (ProcessCluster.BASE_HTTP + 2)), out);

      for (int node = 1; node <= 3; node++) {
        String key = "/d/it-key-" + node;
        assertEquals(200, cluster.send(node, "PUT", key, "value-" + node).statusCode());
        assertEquals("value-" + node, cluster.send(node, "GET", key, null).body());
        assertEquals(200, cluster.send(node, "PUT", "/d/doomed-" + node, "x").statusCode());
        assertEquals(200, cluster.send(node, "DELETE", "/d/doomed-" + node, null).statusCode());
        assertEquals(404, cluster.send(node, "GET", "/d/doomed-" + node, null).statusCode());
      }

      String stopped = cluster.script("scripts/stop-cluster.sh");
      assertTrue(stopped.contains("node3") && !stopped.contains("killed"), stopped);
      assertTrue(cluster.livePids().isEmpty(), "every node process has exited");
      assertTrue(cluster.logs().contains("storage closed"), "SIGTERM closed storage cleanly");

      cluster.script("scripts/start-cluster.sh", "3");
      for (int node = 1; node <= 3; node++) {
        HttpResponse<String> read = cluster.send(node, "GET", "/d/it-key-" + node, null);
        assertEquals(200, read.statusCode(), cluster.logs());
        assertEquals("value-" + node, read.body());
        assertEquals(404, cluster.send(node, "GET", "/d/doomed-" + node, null).statusCode());
      }
    }
  }
}
