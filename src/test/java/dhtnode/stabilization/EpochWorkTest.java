package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.keyspace.TokenRange;
import dhtnode.keyspace.TokenRangeSet;
import dhtnode.ring.HashRing;
import dhtnode.ring.RingSnapshot;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EpochWorkTest {

  static HashRing ring(String... members) {
    return HashRing.of(List.of(members), 16, 3);
  }

  @Test
  void theMergeBarMeetsEveryWriteQuorumOfTheOldReplicas() {
    assertEquals(
        2, EpochWork.mergeBar(3, 2), "N=3, W=2: any 2 old replicas hold every acknowledged write");
    assertEquals(3, EpochWork.mergeBar(3, 1), "W=1: a write may be on one replica only, so all");
    assertEquals(1, EpochWork.mergeBar(3, 3));
    assertEquals(1, EpochWork.mergeBar(2, 2), "two replicas, both acknowledged: either one");
    assertEquals(1, EpochWork.mergeBar(1, 2), "a one-node ring: its only replica, never zero");
    for (int replicas = 1; replicas <= 7; replicas++) {
      for (int w = 1; w <= replicas; w++) {
        // any mergeBar of the replicas meets any W of them
        assertTrue(EpochWork.mergeBar(replicas, w) + w > replicas, replicas + "/" + w);
      }
    }
  }

  @Test
  void aGainerFillsExactlyWhatItGainsFromTheOldReplicasAndOnlyWhileFilling() {
    HashRing old = ring("node1", "node2", "node3", "node4");
    HashRing next = ring("node1", "node2", "node3", "node4", "node5");
    RingSnapshot filling = new RingSnapshot(9, old, next);
    List<EpochWork.Fill> fills = EpochWork.fills("node5", filling, 2);
    assertFalse(fills.isEmpty());
    Random random = new Random(3);
    for (int i = 0; i < 10_000; i++) {
      long token = random.nextLong();
      EpochWork.Fill hit =
          fills.stream().filter(f -> f.range().contains(token)).findFirst().orElse(null);
      assertEquals(next.preferenceList(token).contains("node5"), hit != null);
      if (hit != null) {
        assertEquals(
            old.preferenceList(token), hit.sources(), "only the old replicas, never a gainer");
        assertEquals(2, hit.mergeFrom());
      }
    }
    assertTrue(
        EpochWork.fills("node1", filling, 2).isEmpty(), "a join takes ranges away from the others");
    assertTrue(
        EpochWork.fills("node5", new RingSnapshot(10, old, next, true), 2).isEmpty(),
        "once reads moved, nothing is filled any more");
    assertTrue(EpochWork.fills("node5", new RingSnapshot(11, next), 2).isEmpty());
  }

  @Test
  void aRemovalMakesNeighboursFillFromTheSurvivingAndTheRemovedOldReplicas() {
    HashRing old = ring("node1", "node2", "node3", "node4");
    HashRing next = ring("node1", "node2", "node3");
    for (String self : next.members()) {
      for (EpochWork.Fill fill : EpochWork.fills(self, new RingSnapshot(4, old, next), 2)) {
        assertEquals(old.preferenceList(fill.range().end()), fill.sources());
        assertFalse(fill.sources().contains(self));
        assertTrue(
            fill.sources().contains("node4"),
            "the removed node held it, so it is one of the sources");
      }
    }
  }

  @Test
  void aNodeThatLostItsDataRefillsEachRangeFromTheOtherReplicas() {
    HashRing r = ring("node1", "node2", "node3", "node4");
    List<EpochWork.Fill> refills = EpochWork.refills("node2", r, 2);
    TokenRangeSet covered = TokenRangeSet.empty();
    for (EpochWork.Fill f : refills) {
      assertFalse(f.sources().contains("node2"));
      assertEquals(2, f.sources().size());
      assertEquals(
          2,
          f.mergeFrom(),
          "3 replicas, W=2: a write may be on node2 and just one other, so both others");
      covered = covered.plus(f.range());
    }
    assertEquals(TokenRangeSet.of(r.ownedRanges("node2")), covered);
    assertTrue(
        EpochWork.refills("node1", ring("node1"), 2).isEmpty(), "alone: nothing to refill from");
  }

  @Test
  void aStableEpochDropsWhatTheNodeNoLongerReplicatesAndATransitionDropsNothing() {
    HashRing old = ring("node1", "node2", "node3", "node4");
    HashRing next = ring("node1", "node2", "node3", "node4", "node5");
    TokenRangeSet unheld = EpochWork.unheld("node1", new RingSnapshot(12, next));
    TokenRangeSet owned = TokenRangeSet.of(next.ownedRanges("node1"));
    assertEquals(ReplicaStatus.EVERYTHING.minus(owned), unheld);
    assertTrue(EpochWork.unheld("node1", new RingSnapshot(10, old, next)).isEmpty());
    assertTrue(EpochWork.unheld("node1", new RingSnapshot(11, old, next, true)).isEmpty());
    assertEquals(
        ReplicaStatus.EVERYTHING,
        EpochWork.unheld("node9", new RingSnapshot(12, next)),
        "a node the ring dropped holds nothing");
    assertTrue(
        EpochWork.unheld("node1", new RingSnapshot(0, HashRing.of(List.of(), 16, 3))).isEmpty(),
        "before any epoch nothing is known, so nothing is dropped");
    assertTrue(ReplicaStatus.EVERYTHING.containsAll(TokenRange.full()));
  }
}
