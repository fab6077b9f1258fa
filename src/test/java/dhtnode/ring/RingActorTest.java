package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.ConfigFactory;
import dhtnode.membership.Member;
import dhtnode.membership.MemberEvent;
import dhtnode.membership.MemberStatus;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class RingActorTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  private static final RingSettings SETTINGS =
      RingSettings.from(ConfigFactory.parseString("dht.ring.vnodes = 64"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Member member(String name, MemberStatus status) {
    return new Member(name, "127.0.0.1", 7000, 8000, status, 1);
  }

  private static RingActor.MemberEventReceived joined(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberJoined(member(name, MemberStatus.ALIVE), "node1"));
  }

  private static RingActor.MemberEventReceived suspected(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberSuspected(member(name, MemberStatus.SUSPECT), "node1", "no ack"));
  }

  private static RingActor.MemberEventReceived alive(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberAlive(member(name, MemberStatus.ALIVE), name));
  }

  private static RingActor.MemberEventReceived died(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberDied(member(name, MemberStatus.DEAD), "node1", "suspicion timed out"));
  }

  private static RingActor.MemberEventReceived left(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberLeft(member(name, MemberStatus.LEFT), name));
  }

  private static HashRing expected(String... members) {
    return HashRing.of(List.of(members), SETTINGS.vnodes, 3);
  }

  private record Started(RingView view, ActorRef<RingActor.Command> ring, TestProbe<RingSnapshot> probe) {}

  private static Started start() {
    RingView view = new RingView(SETTINGS, 3);
    ActorRef<RingActor.Command> ring = testKit.spawn(RingActor.create("node1", view));
    TestProbe<RingSnapshot> probe = testKit.createTestProbe();
    ring.tell(new RingActor.Subscribe(probe.getRef()));
    return new Started(view, ring, probe);
  }

  private static void expectRing(TestProbe<RingSnapshot> probe, long epoch, String... members) {
    RingSnapshot snapshot = probe.receiveMessage();
    assertEquals(epoch, snapshot.epoch());
    assertEquals(expected(members), snapshot.ring());
  }

  @Test
  void theFirstRingHoldsOnlyThisNode() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    assertEquals(1, s.view().current().epoch());
    assertEquals(List.of("node1"), s.view().ring().preferenceList("any key"));
  }

  @Test
  void joinsBuildTheExpectedRingsWithGrowingEpochs() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 2, "node1", "node2");
    s.ring().tell(joined("node3"));
    expectRing(s.probe(), 3, "node1", "node2", "node3");
    s.ring().tell(joined("node4"));
    RingSnapshot fourth = s.probe().receiveMessage();
    assertEquals(4, fourth.epoch());
    assertEquals(expected("node1", "node2", "node3", "node4").tokens(), fourth.ring().tokens());
    // published to the view before subscribers hear of it
    assertSame(fourth, s.view().current());
  }

  @Test
  void eventsThatDoNotChangeTheMemberSetKeepTheEpoch() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 2, "node1", "node2");
    s.ring().tell(joined("node2"));
    s.ring().tell(suspected("node2"));
    s.ring().tell(alive("node2"));
    s.ring().tell(died("node9"));
    s.ring().tell(left("node8"));
    // none of those took an epoch: the next real change is epoch 3
    s.ring().tell(joined("node3"));
    expectRing(s.probe(), 3, "node1", "node2", "node3");
    assertEquals(3, s.view().current().epoch());
  }

  @Test
  void aSuspectStaysOnTheRingAndDeadOrLeftMembersLeaveIt() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 2, "node1", "node2");
    s.ring().tell(joined("node3"));
    expectRing(s.probe(), 3, "node1", "node2", "node3");
    s.ring().tell(suspected("node2"));
    s.ring().tell(died("node2"));
    expectRing(s.probe(), 4, "node1", "node3");
    s.ring().tell(left("node3"));
    expectRing(s.probe(), 5, "node1");
    // a restarted node comes back
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 6, "node1", "node2");
    assertEquals(expected("node1", "node2"), s.view().ring());
  }

  @Test
  void aSuspectOrAliveMemberNotYetOnTheRingIsAdded() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    // gossip may bring news of a member as suspect before we saw it join
    s.ring().tell(suspected("node5"));
    expectRing(s.probe(), 2, "node1", "node5");
    s.ring().tell(alive("node6"));
    expectRing(s.probe(), 3, "node1", "node5", "node6");
  }

  @Test
  void everySubscriberIsToldAndUnsubscribedOnesAreNot() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    TestProbe<RingSnapshot> second = testKit.createTestProbe();
    TestProbe<RingSnapshot> leaving = testKit.createTestProbe();
    s.ring().tell(new RingActor.Subscribe(second.getRef()));
    s.ring().tell(new RingActor.Subscribe(leaving.getRef()));
    expectRing(second, 1, "node1");
    expectRing(leaving, 1, "node1");
    s.ring().tell(new RingActor.Unsubscribe(leaving.getRef()));
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 2, "node1", "node2");
    expectRing(second, 2, "node1", "node2");
    leaving.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aStoppedSubscriberIsForgotten() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    TestProbe<RingSnapshot> gone = testKit.createTestProbe();
    s.ring().tell(new RingActor.Subscribe(gone.getRef()));
    expectRing(gone, 1, "node1");
    gone.stop();
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 2, "node1", "node2");
    // the actor keeps serving after its subscriber died
    s.ring().tell(joined("node3"));
    expectRing(s.probe(), 3, "node1", "node2", "node3");
  }

  @Test
  void aDeadMemberLeavesTheRingOnlyWhileAMajorityIsReachable() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 2, "node1", "node2");
    s.ring().tell(joined("node3"));
    expectRing(s.probe(), 3, "node1", "node2", "node3");
    s.ring().tell(joined("node4"));
    expectRing(s.probe(), 4, "node1", "node2", "node3", "node4");
    s.ring().tell(joined("node5"));
    expectRing(s.probe(), 5, "node1", "node2", "node3", "node4", "node5");

    // 4 of 5 reachable: a majority, node5 goes
    s.ring().tell(suspected("node5"));
    s.ring().tell(died("node5"));
    expectRing(s.probe(), 6, "node1", "node2", "node3", "node4");
    // a partition: node3 and node4 become suspect together, then die one by one; 2 of 4
    // reachable is no majority, so this side keeps its ring and quorums fail instead of diverging
    s.ring().tell(suspected("node3"));
    s.ring().tell(suspected("node4"));
    s.ring().tell(died("node3"));
    s.ring().tell(died("node4"));
    s.probe().expectNoMessage(java.time.Duration.ofMillis(200));
    assertEquals(6, s.view().current().epoch());
    // the partition heals for node3: it was never off the ring
    s.ring().tell(alive("node3"));
    s.probe().expectNoMessage(java.time.Duration.ofMillis(200));
    // 3 of 4 reachable now: node4, still dead, goes
    s.ring().tell(died("node4"));
    expectRing(s.probe(), 7, "node1", "node2", "node3");
  }

  @Test
  void aGracefulLeaveIsAppliedEvenOnAMinoritySide() {
    Started s = start();
    expectRing(s.probe(), 1, "node1");
    s.ring().tell(joined("node2"));
    expectRing(s.probe(), 2, "node1", "node2");
    s.ring().tell(left("node2"));
    expectRing(s.probe(), 3, "node1");
  }
}
