package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dhtnode.ring.HashRing;
import dhtnode.ring.Murmur3;
import dhtnode.ring.RingActor;
import dhtnode.ring.RingSnapshot;
import dhtnode.ring.TokenRange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StabilizationPlannerTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static HashRing ring(String... members) {
    return HashRing.of(List.of(members), 16, 3);
  }

  record Fixture(ActorRef<StabilizationPlanner.Command> planner, TestProbe<Stabilizer.Command> stabilizer,
      Map<String, TestProbe<Stabilizer.Command>> peers, PendingRanges pending) {}

  static Fixture start(boolean mayFillAlone, ClusterMemory memory, Duration retry) {
    return start(mayFillAlone, memory, retry, Duration.ofHours(1), Duration.ofDays(1));
  }

  static Fixture start(boolean mayFillAlone, ClusterMemory memory, Duration retry, Duration handoffCheck,
      Duration grace) {
    TestProbe<RingActor.Command> ringProbe = testKit.createTestProbe();
    TestProbe<Stabilizer.Command> stabilizer = testKit.createTestProbe();
    Map<String, TestProbe<Stabilizer.Command>> peers = Map.of(
        "node2", testKit.createTestProbe(), "node3", testKit.createTestProbe(), "node4", testKit.createTestProbe());
    PendingRanges pending = new PendingRanges();
    ActorRef<StabilizationPlanner.Command> planner = testKit.spawn(StabilizationPlanner.create(
        ringProbe.getRef(), "node1", 3, 2, stabilizer.getRef(),
        name -> peers.containsKey(name) ? peers.get(name).getRef() : null,
        pending, mayFillAlone, memory,
        new StabilizationPlanner.Timing(Duration.ofHours(1), retry, Duration.ofMillis(50), handoffCheck, grace),
        new dhtnode.metrics.Metrics("node1")));
    ringProbe.expectMessageClass(RingActor.Subscribe.class);
    return new Fixture(planner, stabilizer, peers, pending);
  }

  /** Every message the probe gets until it stays quiet for a moment. */
  static List<Stabilizer.Command> drain(TestProbe<Stabilizer.Command> probe) {
    List<Stabilizer.Command> out = new ArrayList<>();
    while (true) {
      try {
        out.add(probe.receiveMessage(Duration.ofMillis(300)));
      } catch (AssertionError quiet) {
        return out;
      }
    }
  }

  /** Like {@link #drain}, for when something is due: waits longer for the first message. */
  static List<Stabilizer.Command> drainSome(TestProbe<Stabilizer.Command> probe) {
    List<Stabilizer.Command> out = new ArrayList<>();
    out.add(probe.receiveMessage(Duration.ofSeconds(5)));
    out.addAll(drain(probe));
    return out;
  }

  static StabilizationPlanner.Status status(Fixture f) {
    TestProbe<StabilizationPlanner.Status> probe = testKit.createTestProbe();
    f.planner().tell(new StabilizationPlanner.GetStatus(probe.getRef()));
    return probe.receiveMessage();
  }

  static <T extends Stabilizer.Command> List<T> only(Class<T> type, List<Stabilizer.Command> messages) {
    return messages.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static List<Stabilizer.Fetch> fetches(List<Stabilizer.Command> messages) {
    return only(Stabilizer.Fetch.class, messages);
  }

  static List<Stabilizer.Resync> resyncs(List<Stabilizer.Command> messages) {
    return only(Stabilizer.Resync.class, messages);
  }

  static void complete(Stabilizer.Resync r) {
    List<String> from = r.sources().stream().limit(r.mergeFrom()).map(Stabilizer.Source::name).toList();
    r.replyTo().tell(new Stabilizer.FetchDone(r.range(), from, 3, 0, true, null));
  }

  static void complete(Stabilizer.Fetch f, boolean ok) {
    List<String> from = f.sources().stream().limit(f.mergeFrom()).map(Stabilizer.Source::name).toList();
    f.replyTo().tell(new Stabilizer.FetchDone(f.range(), from, 0, 0, ok, ok ? null : "sources silent"));
  }

  /** A token node1 replicates in the ring. */
  static long ownedToken(HashRing ring) {
    for (int i = 0; ; i++) {
      long t = Murmur3.token("probe-" + i);
      if (ring.preferenceList(t).contains("node1")) {
        return t;
      }
    }
  }

  @Test
  void aJoiningNodeIsPendingUntilFilledFromNMinusWPlusOneOtherReplicas() {
    Fixture f = start(false, new ClusterMemory(null), Duration.ofHours(1));
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, ring("node1"))));
    assertTrue(fetches(drain(f.stabilizer())).isEmpty(), "alone and not a new cluster: nothing to fill from yet");
    assertTrue(f.pending().contains(0L) && f.pending().contains(Long.MIN_VALUE), "everything is pending at start");

    HashRing full = ring("node1", "node2", "node3", "node4");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(2, full)));
    List<Stabilizer.Fetch> fetches = fetches(drain(f.stabilizer()));
    assertFalse(fetches.isEmpty());
    Set<String> used = new HashSet<>();
    for (Stabilizer.Fetch fetch : fetches) {
      assertEquals(2, fetch.mergeFrom(), "N - W + 1 sources");
      fetch.sources().forEach(s -> used.add(s.name()));
      assertFalse(fetch.sources().stream().anyMatch(s -> s.name().equals("node1")), "never from itself");
    }
    assertTrue(status(f).pendingOwned() > 0);
    long owned = ownedToken(full);
    assertTrue(f.pending().contains(owned));

    fetches.forEach(fetch -> complete(fetch, true));
    assertEquals(0, status(f).pendingOwned());
    assertFalse(f.pending().contains(owned), "filled: node1 counts as a replica again");
    assertTrue(used.size() >= 2);
  }

  @Test
  void aFailedFillStaysPendingAndIsRetried() {
    Fixture f = start(false, new ClusterMemory(null), Duration.ofMillis(200));
    HashRing full = ring("node1", "node2", "node3");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, full)));
    List<Stabilizer.Fetch> first = fetches(drain(f.stabilizer()));
    assertFalse(first.isEmpty());
    complete(first.get(0), false);
    first.subList(1, first.size()).forEach(fetch -> complete(fetch, true));
    assertTrue(status(f).pendingOwned() > 0); // also waits until the replies were handled
    assertTrue(f.pending().contains(first.get(0).range().end()), "the failed range is still pending");
    Stabilizer.Fetch retried = (Stabilizer.Fetch) f.stabilizer().receiveMessage(Duration.ofSeconds(3));
    assertEquals(first.get(0).range(), retried.range());
    complete(retried, true);
    assertEquals(0, status(f).pendingOwned());
  }

  @Test
  void theSeedOfANewClusterStartsWithEmptyRangesAtOnce(@TempDir Path dir) {
    ClusterMemory memory = new ClusterMemory(dir);
    Fixture f = start(true, memory, Duration.ofHours(1));
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, ring("node1"))));
    // planned once the ring has settled
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(3), () -> {
      assertEquals(0, status(f).pendingOwned());
      return null;
    });
    assertFalse(f.pending().contains(42L));
    assertEquals(List.of("node1"), memory.recall().orElseThrow(), "a settled ring is remembered");
  }

  @Test
  void aNodeTheClusterHadExcludedIsPendingAgainAndRefills() {
    Fixture f = start(false, new ClusterMemory(null), Duration.ofHours(1));
    HashRing full = ring("node1", "node2", "node3");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, full)));
    fetches(drain(f.stabilizer())).forEach(fetch -> complete(fetch, true));
    assertEquals(0, status(f).pendingOwned());

    f.planner().tell(new StabilizationPlanner.SelfExcluded("node2"));
    assertTrue(status(f).pendingOwned() > 0); // also waits until the message was handled
    assertTrue(f.pending().contains(ownedToken(full)));
    List<Stabilizer.Command> refill = drain(f.stabilizer());
    assertTrue(fetches(refill).isEmpty(), "it holds most of its data: nothing is streamed whole");
    List<Stabilizer.Resync> resyncs = resyncs(refill);
    assertFalse(resyncs.isEmpty());
    resyncs.forEach(r -> assertEquals(2, r.mergeFrom(), "N - W + 1 sources, as for a stream"));
    resyncs.forEach(StabilizationPlannerTest::complete);
    StabilizationPlanner.Status s = status(f);
    assertEquals(0, s.pendingOwned());
    assertEquals(3L * resyncs.size(), s.keysResynced());
  }

  @Test
  void aRestartedMemberResyncsWhatItHeldAndStreamsWhatItGains(@TempDir Path dir) {
    ClusterMemory memory = new ClusterMemory(dir);
    memory.remember(List.of("node1", "node2", "node3", "node4"));
    memory.markAlive(System.currentTimeMillis());
    Fixture f = start(false, memory, Duration.ofHours(1));
    HashRing four = ring("node1", "node2", "node3", "node4");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, four)));
    List<Stabilizer.Command> first = drainSome(f.stabilizer());
    assertTrue(fetches(first).isEmpty(), "a restarted member holds its data: resync, not stream");
    resyncs(first).forEach(StabilizationPlannerTest::complete);
    assertEquals(0, status(f).pendingOwned());

    HashRing three = ring("node1", "node2", "node3");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(2, three)));
    List<Stabilizer.Command> gained = drainSome(f.stabilizer());
    assertTrue(resyncs(gained).isEmpty(), "ranges gained from node4 were never here: streamed " + gained);
    assertFalse(fetches(gained).isEmpty());
  }

  @Test
  void rangesGainedOnARingChangeArePendingAndOnlyThoseAreFilled() {
    Fixture f = start(false, new ClusterMemory(null), Duration.ofHours(1));
    HashRing four = ring("node1", "node2", "node3", "node4");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, four)));
    fetches(drain(f.stabilizer())).forEach(fetch -> complete(fetch, true));
    assertEquals(0, status(f).pendingOwned());

    // node4 dies: node1 gains some of its ranges, and only those become pending
    HashRing three = ring("node1", "node2", "node3");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(2, three)));
    List<Stabilizer.Fetch> gained = fetches(drain(f.stabilizer()));
    assertFalse(gained.isEmpty());
    for (Stabilizer.Fetch fetch : gained) {
      long t = fetch.range().end();
      assertTrue(three.preferenceList(t).contains("node1") && !four.preferenceList(t).contains("node1"),
          "only ranges node1 gained are fetched: " + fetch.range());
      assertTrue(fetch.sources().stream().noneMatch(s -> s.name().equals("node4")), "never from the dead");
    }
    long kept = ownedToken(four);
    if (three.preferenceList(kept).contains("node1")) {
      assertFalse(f.pending().contains(kept), "a range node1 already held stays served");
    }
    gained.forEach(fetch -> complete(fetch, true));
    assertEquals(0, status(f).pendingOwned());
    // a death takes nothing from node1: there is nothing to hand off
    assertTrue(drain(f.stabilizer()).isEmpty());
    assertEquals(0, status(f).lostRangesKept());
  }

  /** Answers the CheckHeld messages of one handoff check (one per owner group) with what {@code held} picks. */
  static void answerCheck(TestProbe<Stabilizer.Command> peer, java.util.function.UnaryOperator<List<TokenRange>> held) {
    for (Stabilizer.Command m : drainSome(peer)) {
      Stabilizer.CheckHeld check = (Stabilizer.CheckHeld) m;
      check.replyTo().tell(new Stabilizer.Held(held.apply(check.ranges())));
    }
  }

  @Test
  void lostRangesAreDeletedOnlyOnceEveryNewOwnerHoldsThem() {
    Fixture f = start(false, new ClusterMemory(null), Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofDays(1));
    HashRing three = ring("node1", "node2", "node3");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, three)));
    fetches(drainSome(f.stabilizer())).forEach(fetch -> complete(fetch, true));
    assertEquals(0, status(f).lostRangesKept());

    // node4 joins and takes some of node1's ranges
    HashRing four = ring("node1", "node2", "node3", "node4");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(2, four)));
    int lostRanges = status(f).lostRangesKept();
    assertTrue(lostRanges > 0);
    long lostToken = 0;
    for (int i = 0; ; i++) {
      long t = Murmur3.token("lost-" + i);
      if (three.preferenceList(t).contains("node1") && !four.preferenceList(t).contains("node1")) {
        lostToken = t;
        break;
      }
    }
    // node4 is still filling: it holds none of them, so nothing is deleted
    answerCheck(f.peers().get("node2"), ranges -> ranges);
    answerCheck(f.peers().get("node3"), ranges -> ranges);
    answerCheck(f.peers().get("node4"), ranges -> List.of());
    assertTrue(drain(f.stabilizer()).stream().noneMatch(m -> m instanceof Stabilizer.Drop), "kept until confirmed");
    assertFalse(f.pending().isForeign(lostToken));

    // once every owner holds them, they are refused and deleted here
    for (String owner : List.of("node2", "node3", "node4")) {
      answerCheck(f.peers().get(owner), ranges -> ranges);
    }
    List<Stabilizer.Command> drops = drainSome(f.stabilizer());
    assertFalse(drops.isEmpty());
    for (Stabilizer.Command m : drops) {
      Stabilizer.Drop drop = (Stabilizer.Drop) m;
      assertFalse(four.preferenceList(drop.range().end()).contains("node1"), "only lost ranges: " + drop.range());
      drop.replyTo().tell(new Stabilizer.DropDone(drop.range(), 2, true, null));
    }
    assertTrue(f.pending().isForeign(lostToken), "writes and reads for a handed-off range are refused");
    StabilizationPlanner.Status s = status(f);
    assertEquals(0, s.lostRangesKept());
    assertEquals(2L * drops.size(), s.keysHandedOff());
    assertFalse(f.pending().isForeign(ownedToken(four)));

    // regaining a handed-off range makes it pending, not foreign
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(3, three)));
    status(f);
    assertFalse(f.pending().isForeign(lostToken));
    assertTrue(f.pending().contains(lostToken));
  }

  @Test
  void aMemberAwayLongerThanHalfTheGracePeriodReplacesItsCopyInsteadOfMergingIt(@TempDir Path dir) {
    ClusterMemory memory = new ClusterMemory(dir);
    memory.remember(List.of("node1", "node2", "node3"));
    memory.markAlive(System.currentTimeMillis() - Duration.ofHours(13).toMillis());
    Fixture f = start(false, memory, Duration.ofHours(1), Duration.ofHours(1), Duration.ofDays(1));
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, ring("node1", "node2", "node3"))));
    List<Stabilizer.Resync> fills = resyncs(drainSome(f.stabilizer()));
    assertFalse(fills.isEmpty());
    fills.forEach(r -> assertTrue(r.replaceWhenHeld(), "replaced where the sources hold it: " + r.range()));
    fills.forEach(StabilizationPlannerTest::complete);
    assertEquals(0, status(f).pendingOwned());
    assertTrue(memory.lastAlive().orElseThrow() > System.currentTimeMillis() - 60_000, "and it notes it is alive");

    // once refilled, a later exclusion merges again
    f.planner().tell(new StabilizationPlanner.SelfExcluded("node2"));
    resyncs(drainSome(f.stabilizer())).forEach(r -> assertFalse(r.replaceWhenHeld()));
  }

  @Test
  void aMemberBackWithinHalfTheGracePeriodResyncsWhatItHolds(@TempDir Path dir) {
    ClusterMemory memory = new ClusterMemory(dir);
    memory.remember(List.of("node1", "node2", "node3"));
    memory.markAlive(System.currentTimeMillis() - Duration.ofHours(11).toMillis());
    Fixture f = start(false, memory, Duration.ofHours(1), Duration.ofHours(1), Duration.ofDays(1));
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, ring("node1", "node2", "node3"))));
    List<Stabilizer.Resync> fills = resyncs(drainSome(f.stabilizer()));
    assertFalse(fills.isEmpty());
    fills.forEach(r -> assertFalse(r.replaceWhenHeld(), "merged: " + r.range()));
  }

  @Test
  void afterAnAntiEntropyRoundThePrimaryCollectsOldTombstonesWithEveryOtherReplica() {
    Fixture f = start(false, new ClusterMemory(null), Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(2));
    HashRing full = ring("node1", "node2", "node3", "node4");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, full)));
    fetches(drainSome(f.stabilizer())).forEach(fetch -> complete(fetch, true));

    TestProbe<StabilizationPlanner.RepairStarted> started = testKit.createTestProbe();
    f.planner().tell(new StabilizationPlanner.RepairNow(started.getRef()));
    started.receiveMessage();
    List<Stabilizer.Command> repairs = drain(f.stabilizer());
    for (Stabilizer.Command m : repairs) {
      Stabilizer.Repair r = (Stabilizer.Repair) m;
      r.replyTo().tell(new Stabilizer.RepairDone(r.range(), r.peerName(), 0, 0, 0, true, null));
    }
    List<Stabilizer.Command> collects = drainSome(f.stabilizer());
    long expectedCutoff = dhtnode.replication.HybridClock.timestampAt(
        System.currentTimeMillis() - Duration.ofHours(2).toMillis());
    for (Stabilizer.Command m : collects) {
      Stabilizer.CollectTombstones c = (Stabilizer.CollectTombstones) m;
      List<String> replicas = full.preferenceList(c.range().end());
      assertEquals("node1", replicas.get(0), "only as primary");
      assertEquals(replicas.subList(1, 3), c.peers().stream().map(Stabilizer.Source::name).toList(),
          "with every other replica");
      assertTrue(Math.abs(c.cutoff() - expectedCutoff) < (60_000L << 16), "older than the grace period");
      c.replyTo().tell(new Stabilizer.CollectDone(c.range(), 10, 1, true, null));
    }
    assertEquals(collects.size(), status(f).tombstonesPurged());
  }

  @Test
  void anAntiEntropyRoundRepairsThePrimaryRangesWithEachOtherReplica() {
    Fixture f = start(false, new ClusterMemory(null), Duration.ofHours(1));
    HashRing full = ring("node1", "node2", "node3");
    f.planner().tell(new StabilizationPlanner.RingChanged(new RingSnapshot(1, full)));
    fetches(drain(f.stabilizer())).forEach(fetch -> complete(fetch, true));

    TestProbe<StabilizationPlanner.RepairStarted> started = testKit.createTestProbe();
    f.planner().tell(new StabilizationPlanner.RepairNow(started.getRef()));
    StabilizationPlanner.RepairStarted round = started.receiveMessage();
    assertEquals(List.of("node2", "node3"), round.peers());
    List<Stabilizer.Command> repairs = drain(f.stabilizer());
    assertEquals(round.sessions(), repairs.size());
    for (Stabilizer.Command m : repairs) {
      Stabilizer.Repair r = (Stabilizer.Repair) m;
      assertEquals("node1", full.preferenceList(r.range().end()).get(0), "node1 starts repairs only as primary");
      r.replyTo().tell(new Stabilizer.RepairDone(r.range(), r.peerName(), 1, 2, 0, true, null));
    }
    StabilizationPlanner.Status s = status(f);
    assertEquals(2L * repairs.size(), s.keysRepaired());
    assertEquals(0, s.repairsInFlight());
    assertTrue(s.lastRepairByPeer().keySet().containsAll(List.of("node2", "node3")));
    assertTrue(TokenRange.full().contains(0L));
  }
}
