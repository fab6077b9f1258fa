package dhtnode.it;

import static dhtnode.it.Linearizability.Op.read;
import static dhtnode.it.Linearizability.Op.unknownWrite;
import static dhtnode.it.Linearizability.Op.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker itself must catch violations, or a green process test means nothing. */
class LinearizabilityTest {

  @Test
  void sequentialWritesAndReadsAreLinearizable() {
    assertTrue(
        Linearizability.check(
                List.of(
                    write("k", "a", 0, 1),
                    read("k", "a", 2, 3),
                    write("k", "b", 4, 5),
                    read("k", "b", 6, 7)))
            .linearizable());
  }

  @Test
  void aStaleReadAfterANewerWriteCompletedIsCaught() {
    Linearizability.Result r =
        Linearizability.check(
            List.of(write("k", "a", 0, 1), write("k", "b", 2, 3), read("k", "a", 4, 5)));
    assertFalse(r.linearizable());
    assertEquals("k", r.badKey());
  }

  @Test
  void aReadConcurrentWithAWriteMaySeeEitherValue() {
    assertTrue(
        Linearizability.check(
                List.of(write("k", "a", 0, 1), write("k", "b", 2, 10), read("k", "a", 3, 4)))
            .linearizable());
    assertTrue(
        Linearizability.check(
                List.of(write("k", "a", 0, 1), write("k", "b", 2, 10), read("k", "b", 3, 4)))
            .linearizable());
  }

  @Test
  void aValueReadMustNotBeUnreadLater() {
    // write b is concurrent with both reads; once one read saw b, a later read must not see a
    assertFalse(
        Linearizability.check(
                List.of(
                    write("k", "a", 0, 1),
                    write("k", "b", 2, 20),
                    read("k", "b", 3, 4),
                    read("k", "a", 5, 6)))
            .linearizable());
  }

  @Test
  void readingAValueNeverWrittenIsCaught() {
    assertFalse(
        Linearizability.check(List.of(write("k", "a", 0, 1), read("k", "z", 2, 3))).linearizable());
  }

  @Test
  void aReadOfAbsentBeforeAnyWriteIsFineButNotAfterACompletedOne() {
    assertTrue(
        Linearizability.check(List.of(read("k", null, 0, 1), write("k", "a", 2, 3)))
            .linearizable());
    assertFalse(
        Linearizability.check(List.of(write("k", "a", 0, 1), read("k", null, 2, 3)))
            .linearizable());
  }

  @Test
  void anUnknownWriteMayHaveHappenedLateOrNever() {
    assertTrue(
        Linearizability.check(
                List.of(
                    write("k", "a", 0, 1),
                    unknownWrite("k", "b", 2),
                    read("k", "a", 5, 6),
                    read("k", "b", 7, 8)))
            .linearizable());
    assertTrue(
        Linearizability.check(
                List.of(write("k", "a", 0, 1), unknownWrite("k", "b", 2), read("k", "a", 9, 10)))
            .linearizable());
    // but once it surfaced, it stays
    assertFalse(
        Linearizability.check(
                List.of(
                    write("k", "a", 0, 1),
                    unknownWrite("k", "b", 2),
                    read("k", "b", 5, 6),
                    read("k", "a", 7, 8)))
            .linearizable());
  }

  @Test
  void keysAreIndependentRegisters() {
    assertTrue(
        Linearizability.check(
                List.of(
                    write("x", "1", 0, 1),
                    write("y", "2", 0, 1),
                    read("x", "1", 2, 3),
                    read("y", "2", 2, 3)))
            .linearizable());
    assertEquals(
        "y",
        Linearizability.check(
                List.of(
                    write("x", "1", 0, 1),
                    write("y", "2", 0, 1),
                    read("x", "1", 2, 3),
                    read("y", "1", 2, 3)))
            .badKey());
  }

  @Test
  void oneWriteReadAgainAfterANewerOneIsNotLinearizableEvenWithAnUnknownOutcome() {
    // the execution of the double-effect write: x (outcome unknown) read, then z, then x again
    assertFalse(
        Linearizability.check(
                List.of(
                    unknownWrite("k", "x", 0),
                    write("k", "z", 1, 20),
                    read("k", "x", 2, 3),
                    read("k", "z", 21, 22),
                    read("k", "x", 23, 24)))
            .linearizable());
    assertTrue(
        Linearizability.check(
                List.of(
                    unknownWrite("k", "x", 0),
                    write("k", "z", 1, 20),
                    read("k", "x", 2, 3),
                    read("k", "z", 21, 22),
                    read("k", "z", 23, 24)))
            .linearizable());
  }

  @Test
  void unknownWritesNobodyReadDoNotChangeTheVerdict() {
    List<Linearizability.Op> ops = new java.util.ArrayList<>();
    ops.add(write("k", "a", 0, 1));
    for (int i = 0; i < 200; i++) {
      ops.add(unknownWrite("k", "lost" + i, 2 + i));
    }
    ops.add(read("k", "a", 300, 301));
    assertTrue(Linearizability.check(ops).linearizable());
    ops.add(unknownWrite("k", null, 302));
    ops.add(read("k", null, 400, 401)); // an unknown delete explains a read of nothing
    assertTrue(Linearizability.check(ops).linearizable());
  }
}
