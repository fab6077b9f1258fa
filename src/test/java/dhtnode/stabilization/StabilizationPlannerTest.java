package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dhtnode.keyspace.TokenRange;
import dhtnode.ring.HashRing;
import dhtnode.ring.RingActor;
import dhtnode.ring.RingSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class StabilizationPlannerTest {
  static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  static final ManualTime manualTime = ManualTime.get(testKit.system());
  static final Duration RETRY = Duration.ofSeconds(3);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static HashRing ring(String... members) {
    return HashRing.of(List.of(members), 16, 3);
  }

  /** One planner for {@code self}: its Stabilizer and peers are probes, its reports a list. */
  record Fixture(
      ActorRef<StabilizationPlanner.Command> planner,
      TestProbe<Stabilizer.Command> stabilizer,
      ReplicaStatus replicaStatus,
      List<Long> reported,
      RingSnapshot[] view) {

    void ring(RingSnapshot snapshot) {
      view[0] = snapshot;
      planner.tell(new StabilizationPlanner.RingChanged(snapshot));
    }

    /** The planner's status; answering it means every earlier message was handled. */
    StabilizationPlanner.Status status() {
      TestProbe<StabilizationPlanner.Status> probe = testKit.createTestProbe();
      planner.tell(new StabilizationPlanner.GetStatus(probe.getRef()));
      return probe.receiveMessage();
    }

    /** Exactly the messages the planner has sent its Stabilizer so far. */
    List<Stabilizer.Command> sent() {
      status();
      List<Stabilizer.Command> out = new ArrayList<>();
      while (true) {
        try {
          out.add(stabilizer.receiveMessage(Duration.ofMillis(50)));
        } catch (AssertionError none) {
          return out;
        }
      }
    }
  }

  static Fixture start(String self, boolean startedEmpty) {
    TestProbe<RingActor.Command> ringProbe = testKit.createTestProbe();
    TestProbe<Stabilizer.Command> stabilizer = testKit.createTestProbe();
    Map<String, TestProbe<Stabilizer.Command>> peers =
        Map.of(
            "node1",
            testKit.createTestProbe(),
            "node2",
            testKit.createTestProbe(),
            "node3",
            testKit.createTestProbe(),
            "node4",
            testKit.createTestProbe(),
            "node5",
            testKit.createTestProbe());
    RingSnapshot[] view = {new RingSnapshot(0, HashRing.of(List.of(), 16, 3))};
    ReplicaStatus status = new ReplicaStatus(self, () -> view[0], startedEmpty);
    List<Long> reported = new CopyOnWriteArrayList<>();
    ActorRef<StabilizationPlanner.Command> planner =
        testKit.spawn(
            StabilizationPlanner.create(
                ringProbe.getRef(),
                new StabilizationPlanner.Node(
                    self,
                    2,
                    stabilizer.getRef(),
                    name -> peers.containsKey(name) ? peers.get(name).getRef() : null,
                    status,
                    reported::add),
                new StabilizationPlanner.Timing(Duration.ofHours(1), RETRY, Duration.ofDays(1)),
                new dhtnode.metrics.Metrics(self),
                () -> 1_000_000L,
                null));
    ringProbe.expectMessageClass(RingActor.Subscribe.class);
    return new Fixture(planner, stabilizer, status, reported, view);
  }

  static <T> List<T> only(Class<T> type, List<Stabilizer.Command> messages) {
    return messages.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static Stabilizer.FetchDone done(Stabilizer.Fetch fetch, boolean ok) {
    return new Stabilizer.FetchDone(
        fetch.range(),
        fetch.epoch(),
        ok ? List.of("x") : List.of(),
        1,
        10,
        ok,
        ok ? null : "only 1 of " + fetch.mergeFrom() + " sources answered");
  }

  static final HashRing FOUR = ring("node1", "node2", "node3", "node4");
  static final HashRing FIVE = ring("node1", "node2", "node3", "node4", "node5");

  @Test
  void aFillTriesTheSourcesSwimHoldsDownLastButKeepsThem() {
    assertEquals(
        List.of("node2", "node4", "node5", "node3"),
        StabilizationPlanner.liveFirst(
            List.of("node5", "node2", "node3", "node4"), java.util.Set.of("node5", "node3")),
        "live ones first in their order, then the down ones: a dead source costs a timeout");
    assertEquals(
        List.of("a", "b"), StabilizationPlanner.liveFirst(List.of("a", "b"), java.util.Set.of()));
  }

  @Test
  void aGainerFillsEachGainedRangeFromItsOldReplicasAndReportsTheEpochOnceAllAreFilled() {
    Fixture f = start("node5", false);
    RingSnapshot joining = new RingSnapshot(6, FOUR, FIVE);
    f.ring(joining);
    List<Stabilizer.Fetch> fetches = only(Stabilizer.Fetch.class, f.sent());
    List<EpochWork.Fill> expected = EpochWork.fills("node5", joining, 2);
    assertEquals(expected.size(), fetches.size());
    for (int i = 0; i < fetches.size(); i++) {
      Stabilizer.Fetch fetch = fetches.get(i);
      assertEquals(6, fetch.epoch(), "sources serve only at the fill's epoch");
      assertEquals(expected.get(i).range(), fetch.range());
      assertEquals(
          FOUR.preferenceList(fetch.range().end()),
          fetch.sources().stream().map(Stabilizer.Source::name).toList());
      assertEquals(2, fetch.mergeFrom());
    }
    for (int i = 0; i < fetches.size() - 1; i++) {
      fetches.get(i).replyTo().tell(done(fetches.get(i), true));
    }
    assertEquals(1, f.status().rangesToFill());
    assertEquals(List.of(), f.reported(), "not before the last range is filled");
    Stabilizer.Fetch last = fetches.get(fetches.size() - 1);
    last.replyTo().tell(done(last, true));
    assertTrue(f.status().filledReported());
    assertEquals(List.of(6L), f.reported());
  }

  @Test
  void aFillThatCannotMeetItsBarIsRetriedAndTheRangeStaysInTransition() {
    Fixture f = start("node5", false);
    f.ring(new RingSnapshot(6, FOUR, FIVE));
    List<Stabilizer.Fetch> fetches = only(Stabilizer.Fetch.class, f.sent());
    for (Stabilizer.Fetch fetch : fetches) {
      fetch.replyTo().tell(done(fetch, fetch != fetches.get(0)));
    }
    StabilizationPlanner.Status blocked = f.status();
    assertNotNull(blocked.fillBlocked(), "says why");
    assertEquals(1, blocked.rangesToFill());
    assertEquals(List.of(), f.reported());
    manualTime.timePasses(RETRY);
    List<Stabilizer.Fetch> again = only(Stabilizer.Fetch.class, f.sent());
    assertEquals(
        List.of(fetches.get(0).range()),
        again.stream().map(Stabilizer.Fetch::range).toList(),
        "only the failed range again, with the same bar");
    assertEquals(fetches.get(0).mergeFrom(), again.get(0).mergeFrom());
    again.get(0).replyTo().tell(done(again.get(0), true));
    assertNull(f.status().fillBlocked());
    assertEquals(List.of(6L), f.reported());
  }

  @Test
  void aNodeThatGainsNothingReportsTheEpochAtOnce() {
    Fixture f = start("node1", false);
    f.ring(new RingSnapshot(6, FOUR, FIVE));
    assertEquals(List.of(), only(Stabilizer.Fetch.class, f.sent()));
    assertEquals(List.of(6L), f.reported());
  }

  @Test
  void aFillOfAnEarlierEpochCountsForNothingInALaterOne() {
    Fixture f = start("node5", false);
    f.ring(new RingSnapshot(6, FOUR, FIVE));
    List<Stabilizer.Fetch> first = only(Stabilizer.Fetch.class, f.sent());
    // retargeted: same old ring, the fills start again at epoch 7
    f.ring(new RingSnapshot(7, FOUR, FIVE));
    for (Stabilizer.Fetch fetch : first) {
      fetch.replyTo().tell(done(fetch, true));
    }
    StabilizationPlanner.Status s = f.status();
    assertEquals(
        EpochWork.fills("node5", new RingSnapshot(7, FOUR, FIVE), 2).size(), s.rangesToFill());
    assertEquals(List.of(), f.reported());
    List<Stabilizer.Fetch> second = only(Stabilizer.Fetch.class, f.sent());
    assertFalse(second.isEmpty());
    for (Stabilizer.Fetch fetch : second) {
      assertEquals(7, fetch.epoch());
      fetch.replyTo().tell(done(fetch, true));
    }
    f.status();
    assertEquals(List.of(7L), f.reported());
  }

  @Test
  void aStableEpochDropsWhatTheNodeNoLongerReplicatesAndATransitionDropsNothing() {
    Fixture f = start("node1", false);
    f.ring(new RingSnapshot(6, FOUR, FIVE));
    f.ring(new RingSnapshot(7, FOUR, FIVE, true));
    assertEquals(
        List.of(),
        only(Stabilizer.Drop.class, f.sent()),
        "old replicas keep their copy in transition");
    f.ring(new RingSnapshot(8, FIVE));
    List<TokenRange> dropped =
        only(Stabilizer.Drop.class, f.sent()).stream().map(Stabilizer.Drop::range).toList();
    assertEquals(EpochWork.unheld("node1", new RingSnapshot(8, FIVE)).ranges(), dropped);
    assertFalse(dropped.isEmpty());
  }

  @Test
  void aReplicaThatLostItsDataAnswersNoReadsUntilItRefilledEveryRange() {
    Fixture f = start("node2", true);
    assertTrue(f.status().recoveringRanges() > 0, "nothing is answered before the first epoch");
    f.ring(new RingSnapshot(4, FOUR));
    List<Stabilizer.Fetch> refills = only(Stabilizer.Fetch.class, f.sent());
    assertEquals(EpochWork.refills("node2", FOUR, 2).size(), refills.size());
    assertTrue(f.status().recoveringRanges() > 0);
    for (Stabilizer.Fetch fetch : refills) {
      assertFalse(fetch.sources().stream().anyMatch(s -> s.name().equals("node2")));
      fetch.replyTo().tell(done(fetch, true));
    }
    assertEquals(0, f.status().recoveringRanges());
  }

  @Test
  void aJoinerThatStartedEmptyHasNothingToRecover() {
    Fixture f = start("node5", true);
    f.ring(new RingSnapshot(4, FOUR));
    assertEquals(0, f.status().recoveringRanges());
    assertEquals(List.of(), only(Stabilizer.Fetch.class, f.sent()));
  }

  @Test
  void antiEntropyRunsAtStableEpochsOnlyForRangesThisNodeIsPrimaryFor() {
    Fixture f = start("node1", false);
    f.ring(new RingSnapshot(5, FOUR));
    f.sent();
    TestProbe<StabilizationPlanner.RepairStarted> probe = testKit.createTestProbe();
    f.planner().tell(new StabilizationPlanner.RepairNow(probe.getRef()));
    StabilizationPlanner.RepairStarted started = probe.receiveMessage();
    assertTrue(started.sessions() > 0);
    for (Stabilizer.Repair repair : only(Stabilizer.Repair.class, f.sent())) {
      assertEquals(5, repair.epoch());
      assertEquals("node1", FOUR.preferenceList(repair.range().end()).get(0));
      assertTrue(FOUR.preferenceList(repair.range().end()).contains(repair.peerName()));
    }
    f.ring(new RingSnapshot(6, FOUR, FIVE));
    f.sent();
    f.planner().tell(new StabilizationPlanner.RepairNow(probe.getRef()));
    assertEquals(0, probe.receiveMessage().sessions(), "not while ranges move");
  }
}
