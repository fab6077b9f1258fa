package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dhtnode.storage.HybridClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keeper of the clock's reservation, with its timer under manual time and a real file. */
class ClockKeeperTest {
  static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final Duration AHEAD = Duration.ofSeconds(4);
  private static final Duration CHECK = Duration.ofSeconds(1);

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  /** Starts a node's clock from the file, as the guardian does. */
  private static HybridClock start(AtomicLong wall, ClockFile file) throws IOException {
    HybridClock clock = HybridClock.reserving(wall::get, AHEAD);
    file.read().ifPresent(clock::restore);
    return clock;
  }

  @Test
  void aClockThatRestartsBehindItsPreviousRunNeverIssuesAVersionOfThatRunAgain(@TempDir Path dir)
      throws IOException {
    AtomicLong wall = new AtomicLong(1_000_000);
    ClockFile file = new ClockFile(dir);
    HybridClock first = start(wall, file);
    ActorRef<ClockKeeper.Command> keeper =
        testKit.spawn(ClockKeeper.create(first, file::write, CHECK));
    List<Long> issued = new ArrayList<>();
    issued.add(awaitStamp(first)); // the keeper reserves once at start
    for (int second = 0; second < 10; second++) { // ten seconds of writes, the keeper keeping ahead
      for (int i = 0; i < 100; i++) {
        long t = first.tryNow();
        assertTrue(t != HybridClock.NOT_RESERVED, "reserved ahead of time, at second " + second);
        issued.add(t);
      }
      wall.addAndGet(1_000);
      manualTime.timePasses(CHECK);
    }
    long highest = issued.get(issued.size() - 1);
    assertTrue(file.read().orElseThrow() >= highest, "the file covers every issued stamp");
    testKit.stop(keeper);

    wall.set(1_000_000 - 60_000); // the restart finds the wall clock a minute behind the first run
    HybridClock second = start(wall, file);
    testKit.spawn(ClockKeeper.create(second, file::write, CHECK));
    long t = awaitStamp(second);
    assertTrue(t > highest, "restarted stamp " + t + " must be above " + highest);
  }

  @Test
  void theReservationIsOnDiskBeforeTheClockMayUseIt() {
    AtomicLong wall = new AtomicLong(5_000);
    HybridClock clock = HybridClock.reserving(wall::get, AHEAD);
    List<Long> written = new CopyOnWriteArrayList<>();
    ClockKeeper.Store store =
        upTo -> {
          // at the moment of writing, the clock must not yet issue anything above the old
          // reservation
          assertTrue(clock.reservation() < upTo);
          written.add(upTo);
        };
    testKit.spawn(ClockKeeper.create(clock, store, CHECK));
    long t = awaitStamp(clock);
    assertEquals(List.of(clock.reservation()), written);
    assertTrue(t <= written.get(0));
  }

  @Test
  void aStampPastTheReservationWaitsForTheKeeperAndAFailingDiskKeepsItWaiting() {
    AtomicLong wall = new AtomicLong(5_000);
    HybridClock clock = HybridClock.reserving(wall::get, AHEAD);
    AtomicBoolean diskFails = new AtomicBoolean(false);
    ClockKeeper.Store store =
        upTo -> {
          if (diskFails.get()) {
            throw new IOException("disk full");
          }
        };
    ActorRef<ClockKeeper.Command> keeper = testKit.spawn(ClockKeeper.create(clock, store, CHECK));
    awaitStamp(clock);

    long peer =
        HybridClock.timestampAt(95_000); // a peer 90 s ahead pushes this clock past its reservation
    clock.observe(peer);
    assertEquals(HybridClock.NOT_RESERVED, clock.tryNow());
    diskFails.set(true);
    TestProbe<ClockKeeper.Reserved> waiter = testKit.createTestProbe(ClockKeeper.Reserved.class);
    keeper.tell(new ClockKeeper.Reserve(waiter.getRef()));
    waiter.expectNoMessage(Duration.ofMillis(100));
    assertEquals(HybridClock.NOT_RESERVED, clock.tryNow());

    diskFails.set(false);
    manualTime.timePasses(CHECK); // the next check writes it
    waiter.expectMessage(ClockKeeper.Reserved.INSTANCE);
    assertTrue(clock.tryNow() > peer);
  }

  @Test
  void theFileHoldsTheLastReservationAndRefusesGarbage(@TempDir Path dir) throws IOException {
    ClockFile file = new ClockFile(dir.resolve("new-node"));
    assertEquals(OptionalLong.empty(), file.read());
    file.write(42);
    file.write(4242);
    assertEquals(OptionalLong.of(4242), file.read());
    Files.writeString(file.path(), "not a number");
    IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, file::read);
    assertTrue(e.getMessage().contains("does not hold a clock reservation"), e.getMessage());
  }

  /** The keeper reserves at start, asynchronously: poll the clock with a deadline. */
  private static long awaitStamp(HybridClock clock) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline) {
      long t = clock.tryNow();
      if (t != HybridClock.NOT_RESERVED) {
        return t;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("no reservation within 5 s");
  }
}
