package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReadinessTest {
  static final List<String> RING = List.of("node1", "node2", "node3");

  @Test
  void aMemberOfTheRingThatReachesAMajorityAndHoldsItsDataIsReady() {
    Readiness r =
        Readiness.judge(
            "node1", 4, RING, Map.of("node1", "ALIVE", "node2", "SUSPECT", "node3", "DEAD"), 0);
    assertTrue(r.ready(), r.reasons().toString());
    assertEquals(2, r.reachable(), "itself and the suspect: SWIM has not given up on it");
  }

  @Test
  void fewerThanAMajorityReachableIsNotReady() {
    Readiness r =
        Readiness.judge(
            "node1", 4, RING, Map.of("node1", "ALIVE", "node2", "DEAD", "node3", "DEAD"), 0);
    assertFalse(r.ready());
    assertTrue(
        r.reasons().get(0).contains("reaches 1 of the ring's 3 members"), r.reasons().toString());
  }

  @Test
  void aJoinerNotYetInAnyEpochAndANodeWithoutAnEpochAreNotReady() {
    Readiness joiner =
        Readiness.judge(
            "node4", 4, RING, Map.of("node1", "ALIVE", "node2", "ALIVE", "node3", "ALIVE"), 0);
    assertFalse(joiner.ready());
    assertTrue(joiner.reasons().get(0).contains("joining"), joiner.reasons().toString());
    Readiness fresh = Readiness.judge("node1", 0, List.of(), Map.of(), 0);
    assertFalse(fresh.ready());
    assertTrue(fresh.reasons().get(0).contains("no agreed ring epoch"), fresh.reasons().toString());
  }

  @Test
  void aNodeRefillingAfterLosingItsDataIsNotReadyUntilItHasRefilled() {
    Map<String, String> allAlive = Map.of("node1", "ALIVE", "node2", "ALIVE", "node3", "ALIVE");
    assertFalse(Readiness.judge("node1", 4, RING, allAlive, 12).ready());
    assertTrue(Readiness.judge("node1", 4, RING, allAlive, 0).ready());
  }
}
