package dhtnode.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OwnershipTest {
  static final double EPS = 1e-9;

  @Test
  void eachTokenOwnsTheArcUpToItAndTheArcsCoverTheSpaceOnce() {
    // tokens at -2^62, 0 and 2^62: arcs of 1/4, 1/4 and (wrapping) 1/2
    List<Ownership.VNode> ring =
        List.of(
            new Ownership.VNode(-(1L << 62), "a"),
            new Ownership.VNode(0, "b"),
            new Ownership.VNode(1L << 62, "c"));
    Map<String, Double> one = Ownership.effective(ring, 1);
    assertEquals(0.5, one.get("a"), EPS, "a owns the wrapping arc (2^62, -2^62]");
    assertEquals(0.25, one.get("b"), EPS);
    assertEquals(0.25, one.get("c"), EPS);

    Map<String, Double> two = Ownership.effective(ring, 2);
    // with two replicas an arc also counts for the next member clockwise
    assertEquals(0.5 + 0.25, two.get("a"), EPS, "a's own arc and c's");
    assertEquals(0.25 + 0.5, two.get("b"), EPS, "b's own arc and a's");
    assertEquals(0.25 + 0.25, two.get("c"), EPS);
    assertEquals(2.0, two.values().stream().mapToDouble(Double::doubleValue).sum(), EPS);
  }

  @Test
  void replicasAreDistinctMembersAndNoMoreThanThereAre() {
    List<Ownership.VNode> ring =
        List.of(
            new Ownership.VNode(-100, "a"),
            new Ownership.VNode(0, "a"),
            new Ownership.VNode(100, "b"));
    Map<String, Double> three = Ownership.effective(ring, 3);
    assertEquals(1.0, three.get("a"), EPS, "every arc is replicated on both members");
    assertEquals(1.0, three.get("b"), EPS);
  }

  @Test
  void aPrometheusGaugeIsReadFromTheMetricsText() {
    String metrics =
        "# HELP dht_storage_keys keys\n# TYPE dht_storage_keys gauge\n"
            + "dht_storage_keys_other 7\ndht_storage_keys{node=\"node1\"} 42.0\n";
    assertEquals(42.0, Dhtctl.Status.gauge(metrics, "dht_storage_keys"));
  }

  @Test
  void aTableAlignsItsColumns() {
    String table = new Table("NAME", "KEYS").row("node1", 12345).row("n2", 1).toString();
    assertEquals("NAME   KEYS\nnode1  12345\nn2     1\n", table);
  }
}
