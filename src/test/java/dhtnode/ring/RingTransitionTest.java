package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.keyspace.TokenRange;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RingTransitionTest {

  @Test
  void aJoinerGainsExactlyWhereItEntersThePreferenceListAndFillsFromTheOldReplicas() {
    HashRing before = HashRing.of(List.of("a", "b", "c", "d"), 16, 3);
    HashRing after = HashRing.of(List.of("a", "b", "c", "d", "e"), 16, 3);
    List<RingTransition.Gain> gains = RingTransition.gains("e", before, after);
    assertFalse(gains.isEmpty());
    Random random = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      long token = random.nextLong();
      boolean gained = after.preferenceList(token).contains("e");
      RingTransition.Gain hit =
          gains.stream().filter(g -> g.range().contains(token)).findFirst().orElse(null);
      assertEquals(gained, hit != null, "token " + token);
      if (hit != null) {
        assertEquals(before.preferenceList(token), hit.oldReplicas());
      }
    }
    // adjacent arcs with the same sources are one range
    for (int i = 1; i < gains.size(); i++) {
      RingTransition.Gain a = gains.get(i - 1);
      RingTransition.Gain b = gains.get(i);
      assertFalse(a.range().end() == b.range().start() && a.oldReplicas().equals(b.oldReplicas()));
    }
  }

  @Test
  void aRemovalMakesTheNeighboursGainersAndTheRemovedNodeGainsNothing() {
    HashRing before = HashRing.of(List.of("a", "b", "c", "d", "e"), 8, 3);
    HashRing after = HashRing.of(List.of("a", "b", "c", "d"), 8, 3);
    assertTrue(RingTransition.gains("e", before, after).isEmpty());
    Set<String> gainers = RingTransition.gainers(before, after);
    assertFalse(gainers.isEmpty());
    assertFalse(gainers.contains("e"));
    for (String m : after.members()) {
      assertEquals(gainers.contains(m), !RingTransition.gains(m, before, after).isEmpty(), m);
    }
  }

  @Test
  void growingFromOneNodeGivesTheJoinerTheWholeRingFromTheFounder() {
    HashRing before = HashRing.of(List.of("a"), 4, 3);
    HashRing after = HashRing.of(List.of("a", "b"), 4, 3);
    assertEquals(
        List.of(new RingTransition.Gain(TokenRange.full(), List.of("a"))),
        RingTransition.gains("b", before, after));
    assertEquals(Set.of("b"), RingTransition.gainers(before, after));
  }

  @Test
  void theSameRingGainsNothing() {
    HashRing ring = HashRing.of(List.of("a", "b", "c"), 8, 3);
    assertTrue(RingTransition.gains("a", ring, ring).isEmpty());
    assertTrue(RingTransition.gainers(ring, ring).isEmpty());
  }

  @Test
  void theBarrierHoldsOnlyWhenNoOldReplicaSetKeepsAReadQuorumBehind() {
    HashRing old = HashRing.of(List.of("a", "b", "c", "d"), 8, 3);
    assertFalse(
        RingTransition.barrierMet(old, Set.of(), 2),
        "nobody reported: every old quorum can still form");
    assertFalse(
        RingTransition.barrierMet(old, Set.of("a", "b"), 2),
        "a range replicated by c and d (and one of a, b) still has two replicas behind");
    assertTrue(
        RingTransition.barrierMet(old, Set.of("a", "b", "c"), 2),
        "at most one behind in any set of three");
    assertTrue(RingTransition.barrierMet(old, Set.of("a", "b", "c", "d"), 2));
    assertFalse(
        RingTransition.barrierMet(old, Set.of("a", "b", "c"), 1),
        "R=1: every replica must have moved");
    assertTrue(
        RingTransition.barrierMet(HashRing.of(List.of("a"), 8, 3), Set.of(), 2),
        "one old replica can never form a quorum of two");
  }
}
