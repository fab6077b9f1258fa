package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuorumTallyTest {
  private static final List<String> NODES = List.of("a", "b", "c");

  private static Versioned value(long ts, String writer) {
    return Versioned.of(
        ("v" + ts).getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, writer));
  }

  @Test
  void quorumIsMetOnceTheRequiredNumberOfReplicasAnswered() {
    QuorumTally tally = new QuorumTally(NODES, 2);
    tally.answer(0, null);
    assertFalse(tally.isMet());
    tally.answer(2, value(1, "x"));
    assertTrue(tally.isMet());
    assertEquals(1, tally.pendingCount());
  }

  @Test
  void failuresCountAsNoAnswerAndTheTallyGivesUpWhenTooManyFailed() {
    QuorumTally tally = new QuorumTally(NODES, 2);
    tally.fail(0);
    assertTrue(tally.canStillMeet(), "two replicas are still pending");
    tally.fail(1);
    assertFalse(tally.canStillMeet(), "one pending replica cannot make a quorum of two");
    assertFalse(tally.isMet());
  }

  @Test
  void aReplicaIsDecidedOnceSoADuplicateReplyNeverCountsTwice() {
    QuorumTally tally = new QuorumTally(NODES, 2);
    assertTrue(tally.answer(1, null));
    assertFalse(tally.answer(1, null));
    assertFalse(tally.fail(1));
    assertEquals(1, tally.answeredCount());
    assertFalse(tally.isMet());
    assertTrue(tally.hasAnswered(1));
  }

  @Test
  void newestIsTheHighestVersionAndATombstoneCountsAsAVersion() {
    QuorumTally tally = new QuorumTally(NODES, 3);
    Versioned old = value(5, "a");
    Versioned tombstone = Versioned.tombstone(new Version(9, "b"));
    tally.answer(0, old);
    tally.answer(1, tombstone);
    tally.answer(2, null);
    assertSame(tombstone, tally.newest());
    assertEquals(9, tally.maxTimestamp());
  }

  @Test
  void equalTimestampsAreOrderedByWriterName() {
    QuorumTally tally = new QuorumTally(NODES, 2);
    Versioned fromA = value(7, "a");
    Versioned fromB = value(7, "b");
    tally.answer(0, fromB);
    tally.answer(1, fromA);
    assertSame(fromB, tally.newest());
  }

  @Test
  void nothingAnsweredWithAValueMeansNoNewestAndNoTimestamp() {
    QuorumTally tally = new QuorumTally(NODES, 2);
    tally.answer(0, null);
    tally.fail(1);
    assertNull(tally.newest());
    assertEquals(Long.MIN_VALUE, tally.maxTimestamp());
  }

  @Test
  void staleReplicasAreTheAnsweredOnesHoldingNothingOrSomethingOlder() {
    QuorumTally tally = new QuorumTally(List.of("a", "b", "c", "d"), 3);
    Versioned newest = value(10, "a");
    tally.answer(0, newest);
    tally.answer(1, value(3, "b"));
    tally.answer(2, null);
    // d has not answered: it is not known to be stale.
    assertArrayEquals(new int[] {1, 2}, tally.staleReplicas(newest.version()));
    assertTrue(tally.holdsAtLeast(0, newest.version()));
    assertFalse(tally.holdsAtLeast(1, newest.version()));
    assertFalse(tally.holdsAtLeast(3, newest.version()));
  }

  @Test
  void aReplicaHoldingSomethingNewerIsNotStale() {
    QuorumTally tally = new QuorumTally(NODES, 1);
    tally.answer(0, value(20, "c"));
    assertArrayEquals(new int[0], tally.staleReplicas(new Version(10, "a")));
    assertTrue(tally.holdsAtLeast(0, new Version(10, "a")));
  }

  @Test
  void answeredNamesTheRepliersInPreferenceOrder() {
    QuorumTally tally = new QuorumTally(NODES, 2);
    tally.answer(2, null);
    tally.fail(1);
    tally.answer(0, value(1, "a"));
    assertEquals(List.of("a", "c"), tally.answered());
  }

  @Test
  void aQuorumLargerThanTheReplicaListCanNeverBeMet() {
    QuorumTally tally = new QuorumTally(List.of("a", "b"), 3);
    assertFalse(tally.canStillMeet());
    tally.answer(0, null);
    tally.answer(1, null);
    assertFalse(tally.isMet());
  }

  @Test
  void aQuorumOfZeroIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new QuorumTally(NODES, 0));
  }
}
