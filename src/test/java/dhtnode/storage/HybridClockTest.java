package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HybridClockTest {
  private final AtomicLong wall = new AtomicLong(10_000);

  private HybridClock reserving() {
    return HybridClock.reserving(wall::get, Duration.ofSeconds(4));
  }

  @Test
  void aClockThatPersistsNothingIsStrictlyIncreasingAndFollowsTheWallClock() {
    HybridClock clock = new HybridClock(wall::get);
    long first = clock.tryNow();
    assertEquals(HybridClock.timestampAt(10_000), first);
    assertEquals(first + 1, clock.tryNow()); // same millisecond: the logical counter moves
    wall.set(10_005);
    assertEquals(HybridClock.timestampAt(10_005), clock.tryNow());
    wall.set(9_000); // stepped back: still increasing
    assertTrue(clock.tryNow() > HybridClock.timestampAt(10_005));
  }

  @Test
  void anObservedTimestampIsPassedByTheNextOne() {
    HybridClock clock = new HybridClock(wall::get);
    long far = HybridClock.timestampAt(99_000);
    clock.observe(far);
    assertTrue(clock.tryNow() > far);
  }

  @Test
  void aReservingClockIssuesNothingBeforeItsFirstReservationAndNothingBeyondIt() {
    HybridClock clock = reserving();
    assertTrue(clock.reservationDue());
    assertEquals(HybridClock.NOT_RESERVED, clock.tryNow());
    long upTo = clock.nextReservation();
    assertEquals(HybridClock.timestampAt(14_000), upTo);
    clock.reserved(upTo);
    assertFalse(clock.reservationDue());
    assertEquals(HybridClock.timestampAt(10_000), clock.tryNow());

    wall.set(14_000); // the wall clock reached the reservation: one more stamp fits, then none
    assertTrue(clock.reservationDue());
    assertEquals(upTo, clock.tryNow());
    assertEquals(HybridClock.NOT_RESERVED, clock.tryNow());
    clock.reserved(clock.nextReservation());
    assertTrue(clock.tryNow() > upTo);
  }

  @Test
  void theReservationIsDueWhenLessThanHalfOfItIsLeft() {
    HybridClock clock = reserving();
    clock.reserved(clock.nextReservation()); // up to 14 000 ms
    wall.set(11_999);
    assertFalse(clock.reservationDue());
    wall.set(12_001);
    assertTrue(clock.reservationDue());
  }

  @Test
  void aPeerFarAheadExhaustsTheReservationUntilItIsExtendedPastWhatWasSeen() {
    HybridClock clock = reserving();
    clock.reserved(clock.nextReservation());
    long ahead = HybridClock.timestampAt(100_000); // a peer 90 s ahead
    clock.observe(ahead);
    assertTrue(clock.reservationDue());
    assertEquals(HybridClock.NOT_RESERVED, clock.tryNow());
    long next = clock.nextReservation();
    assertEquals(ahead + HybridClock.timestampAt(4_000), next);
    clock.reserved(next);
    assertTrue(clock.tryNow() > ahead);
  }

  @Test
  void aClockRestoredBehindItsPreviousRunStartsAboveEverythingThatRunIssued() {
    HybridClock before = reserving();
    before.reserved(before.nextReservation());
    long issued = 0;
    for (int i = 0; i < 1000; i++) {
      issued = before.tryNow();
    }
    long persisted = before.reservation();

    wall.set(3_000); // the restart finds the wall clock 7 s behind the previous run
    HybridClock after = reserving();
    after.restore(persisted);
    assertEquals(HybridClock.NOT_RESERVED, after.tryNow());
    after.reserved(after.nextReservation());
    long first = after.tryNow();
    assertTrue(first > persisted && first > issued, first + " must be above " + persisted);
  }

  @Test
  void aFrozenWallClockStillGivesIncreasingStampsWithinTheReservation() {
    HybridClock clock = reserving();
    clock.reserved(clock.nextReservation());
    long prev = clock.tryNow();
    for (int i = 0; i < 200_000; i++) { // more than one millisecond's logical counter
      long next = clock.tryNow();
      assertTrue(next > prev);
      prev = next;
    }
    assertTrue(prev > HybridClock.timestampAt(10_003), "the counter carried into the milliseconds");
    assertFalse(clock.reservationDue());
  }
}
