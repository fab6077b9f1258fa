package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dhtnode.membership.Member;
import dhtnode.membership.MemberEvent;
import dhtnode.membership.MemberStatus;
import dhtnode.membership.MembershipActor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ring actor under ManualTime: peers are probes that receive what the actor sends and answer as
 * the test chooses, so every step of an agreement is visible and exact.
 */
class RingActorTest {
  static final Config CONFIG =
      ConfigFactory.parseString("akka.loglevel = WARNING").withFallback(ManualTime.config());
  static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final Config RING =
      ConfigFactory.parseString("dht.ring { vnodes = 64, removal-delay = 3s }")
          .withFallback(ConfigFactory.defaultReference());
  private static final RingSettings SETTINGS = RingSettings.from(RING);
  private static final RingSettings FOUNDING =
      RingSettings.from(
          ConfigFactory.parseString("dht.ring.found-cluster = on").withFallback(RING));
  private static final long WALL = 1_700_000_000_000L;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static RingMember rm(String name) {
    return new RingMember(name, "127.0.0.1", 7000 + Integer.parseInt(name.substring(4)), 8000);
  }

  private static Member member(String name, MemberStatus status) {
    RingMember m = rm(name);
    return new Member(name, m.host(), m.clusterPort(), m.httpPort(), status, WALL - 10_000);
  }

  private static RingActor.MemberEventReceived joined(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberJoined(member(name, MemberStatus.ALIVE), "node1"));
  }

  private static RingActor.MemberEventReceived alive(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberAlive(member(name, MemberStatus.ALIVE), name));
  }

  private static RingActor.MemberEventReceived died(String name) {
    return new RingActor.MemberEventReceived(
        new MemberEvent.MemberDied(
            member(name, MemberStatus.DEAD), "node1", "suspicion timed out"));
  }

  private static RingConfig stable(String... names) {
    List<RingMember> members = new ArrayList<>();
    for (String n : names) {
      members.add(rm(n));
    }
    return RingConfig.stable(members, Map.of(), "test", "node1");
  }

  /** A node1 ring actor with probes standing in for the ring actors of node2..node5. */
  private static final class Node {
    final RingView view = new RingView(SETTINGS, 3);
    final Map<String, TestProbe<RingActor.Command>> peers = new HashMap<>();
    final TestProbe<RingSnapshot> snapshots = testKit.createTestProbe();
    final AtomicReference<String> stopped = new AtomicReference<>();
    final RingStateStore store;
    final ActorRef<RingActor.Command> ring;

    Node(RingSettings settings, RingStateStore store) {
      this.store = store;
      for (int i = 2; i <= 5; i++) {
        peers.put("node" + i, testKit.createTestProbe());
      }
      ring =
          testKit.spawn(
              RingActor.create(
                  rm("node1"),
                  view,
                  settings,
                  new RingActor.Environment(
                      store, m -> peers.get(m.name()).getRef(), stopped::set, () -> WALL),
                  null));
      ring.tell(new RingActor.Subscribe(snapshots.getRef()));
      status(); // the actor has started, and with it its tick timer
    }

    RingActor.Status status() {
      TestProbe<RingActor.Status> probe = testKit.createTestProbe();
      ring.tell(new RingActor.GetStatus(probe.getRef()));
      return probe.receiveMessage();
    }

    TestProbe<RingActor.Command> peer(String name) {
      return peers.get(name);
    }

    /** The next message node1 sends to {@code name}, of the given type (skipping others). */
    <T extends RingMessage> T expect(String name, Class<T> type) {
      TestProbe<RingActor.Command> probe = peer(name);
      for (int i = 0; i < 50; i++) {
        RingActor.Command c = probe.receiveMessage();
        RingMessage m = ((RingActor.Peer) c).message();
        if (type.isInstance(m)) {
          return type.cast(m);
        }
      }
      throw new AssertionError("no " + type.getSimpleName() + " to " + name);
    }

    void tell(RingMessage message) {
      ring.tell(new RingActor.Peer(message));
    }
  }

  private static RingStateStore storeAt(long epoch, RingConfig config) {
    RingStateStore store = RingStateStore.inMemory();
    store.save(new RingState(epoch, config, null, null, null));
    return store;
  }

  private static void ticks(int n) {
    manualTime.timePasses(RingSettings.TICK.multipliedBy(n));
  }

  @Test
  void theNodesRingSubscribesToMembershipItselfAndLearnsEachAddressBeforeNamingTheMember() {
    TestProbe<MembershipActor.Command> membership = testKit.createTestProbe();
    List<String> addresses = new CopyOnWriteArrayList<>();
    List<String> knownWhenNamed = new CopyOnWriteArrayList<>();
    RingView view = new RingView(SETTINGS, 3);
    TestProbe<RingSnapshot> snapshots = testKit.createTestProbe();
    ActorRef<RingActor.Command> ring =
        testKit.spawn(
            RingActor.create(
                rm("node1"),
                view,
                FOUNDING,
                new RingActor.Environment(
                    RingStateStore.inMemory(),
                    m -> testKit.<RingActor.Command>createTestProbe().getRef(),
                    reason -> {},
                    () -> WALL),
                new RingActor.MemberFeed(membership.getRef(), m -> addresses.add(m.name()))));
    ActorRef<MemberEvent> subscriber =
        membership.expectMessageClass(MembershipActor.Subscribe.class).subscriber();
    ring.tell(new RingActor.Subscribe(snapshots.getRef()));
    assertEquals(1, snapshots.receiveMessage().epoch());
    subscriber.tell(
        new MemberEvent.MemberDied(member("node3", MemberStatus.DEAD), "node1", "gone"));
    subscriber.tell(new MemberEvent.MemberJoined(member("node2", MemberStatus.ALIVE), "node1"));
    ticks(1);
    RingSnapshot named = snapshots.receiveMessage();
    knownWhenNamed.addAll(addresses);
    assertTrue(named.next().members().contains("node2"), named.toString());
    assertEquals(
        List.of("node2"),
        knownWhenNamed,
        "only members that are up, and before the ring named them");
  }

  @Test
  void aFounderCommitsEpochOneHoldingOnlyItselfAndPersistsIt() {
    Node n = new Node(FOUNDING, RingStateStore.inMemory());
    RingSnapshot first = n.snapshots.receiveMessage();
    assertEquals(1, first.epoch());
    assertEquals(List.of("node1"), first.ring().members());
    assertSame(first, n.view.current());
    assertEquals(1, n.store.load().epoch());
  }

  @Test
  void aNodeWithoutStateIsInNoRingUntilItCatchesUpFromAPeer() {
    Node n = new Node(SETTINGS, RingStateStore.inMemory());
    assertEquals(0, n.status().epoch());
    n.ring.tell(joined("node2"));
    ticks(RingSettings.ticks(SETTINGS.catchUpInterval));
    RingMessage.EpochQuery query = n.expect("node2", RingMessage.EpochQuery.class);
    assertEquals(0, query.epoch());
    n.snapshots.expectNoMessage(Duration.ofMillis(20));
    RingConfig config =
        RingConfig.of(
            List.of(rm("node2"), rm("node3")),
            List.of(rm("node1"), rm("node2"), rm("node3")),
            Map.of(),
            "joining [node1]",
            "node2");
    n.tell(new RingMessage.EpochState(rm("node2"), 4, config));
    RingSnapshot snapshot = n.snapshots.receiveMessage();
    assertEquals(4, snapshot.epoch());
    assertTrue(snapshot.inTransition());
    assertEquals(List.of("node2", "node3"), snapshot.ring().members());
    assertEquals(List.of("node1", "node2", "node3"), snapshot.next().members());
    assertEquals(4, n.store.load().epoch());
  }

  /**
   * Rings are built per committed epoch, never per membership event: a node joining a 1,000-member
   * cluster hears of every member one event at a time and builds no ring for any of them, then one
   * when it catches up with the cluster's epoch.
   */
  @Test
  void aJoinerHearingOfAThousandMembersBuildsOneRingWhenItCatchesUpAndNoneBefore() {
    Node n = new Node(SETTINGS, RingStateStore.inMemory());
    List<RingMember> members = new ArrayList<>(List.of(rm("node2")));
    for (int i = 6; i < 1006; i++) { // beyond node2..node5, whose probes the actor may write to
      n.ring.tell(joined("node" + i));
      members.add(rm("node" + i));
    }
    assertEquals(0, n.status().epoch()); // every event handled, none of them built a ring
    n.snapshots.expectNoMessage(Duration.ofMillis(20));
    n.tell(
        new RingMessage.EpochState(
            rm("node2"), 7, RingConfig.stable(members, Map.of(), "test", "node2")));
    RingSnapshot snapshot = n.snapshots.receiveMessage();
    assertEquals(7, snapshot.epoch());
    assertEquals(1001, snapshot.ring().members().size());
    assertSame(snapshot.ring(), snapshot.next(), "a stable epoch: one ring built, not two");
    n.snapshots.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void theLeaderProposesAJoinMovesReadsOnlyAfterTheGainerReportedItsFillThenFinishes() {
    Node n = new Node(FOUNDING, RingStateStore.inMemory());
    assertEquals(1, n.snapshots.receiveMessage().epoch());
    n.ring.tell(joined("node2"));
    ticks(1);
    // epoch 1 has one acceptor, node1 itself: the transition commits at once and node2 is told
    RingSnapshot transition = n.snapshots.receiveMessage();
    assertEquals(2, transition.epoch());
    assertEquals(List.of("node1"), transition.ring().members());
    assertEquals(List.of("node1", "node2"), transition.next().members());
    RingMessage.Committed committed = n.expect("node2", RingMessage.Committed.class);
    assertEquals(2, committed.epoch());
    assertEquals(Set.of("node2"), n.status().awaitingFills());

    ticks(20);
    n.snapshots.expectNoMessage(Duration.ofMillis(20));
    assertEquals(2, n.status().epoch(), "no finish before node2's fill");
    assertEquals(
        Set.of("node2"), n.view.fills().awaiting(), "the view says whom the transition waits for");

    n.tell(new RingMessage.FillDone(rm("node2"), 2, "node2"));
    ticks(1);
    // epoch 2 has two acceptors: node2 must promise and accept too
    RingMessage.Prepare prepare = n.expect("node2", RingMessage.Prepare.class);
    assertEquals(3, prepare.slot());
    n.tell(new RingMessage.Promise(rm("node2"), 3, prepare.ballot(), Ballot.ZERO, null, null));
    RingMessage.Accept accept = n.expect("node2", RingMessage.Accept.class);
    assertEquals(Set.of("node1"), accept.value().currentNames());
    assertTrue(accept.value().readsMoved(), "reads move first; writes still reach both rings");
    n.tell(new RingMessage.Accepted(rm("node2"), 3, accept.ballot()));
    RingSnapshot moved = n.snapshots.receiveMessage();
    assertEquals(3, moved.epoch());
    assertTrue(moved.readsMoved());
    assertEquals(List.of("node1", "node2"), moved.ring().members(), "reads on the new ring");

    // one old replica cannot form a read quorum of 2 on its own: the barrier holds at once
    ticks(1);
    RingMessage.Prepare finish = n.expect("node2", RingMessage.Prepare.class);
    assertEquals(4, finish.slot());
    n.tell(new RingMessage.Promise(rm("node2"), 4, finish.ballot(), Ballot.ZERO, null, null));
    RingMessage.Accept stable = n.expect("node2", RingMessage.Accept.class);
    assertTrue(!stable.value().inTransition());
    n.tell(new RingMessage.Accepted(rm("node2"), 4, stable.ballot()));
    RingSnapshot finished = n.snapshots.receiveMessage();
    assertEquals(4, finished.epoch());
    assertEquals(List.of("node1", "node2"), finished.ring().members());
    assertTrue(!finished.inTransition());
  }

  @Test
  void aMemberBackBeforeTheRemovalDelayMovesNothingAndOneDeadForTheDelayIsProposedForRemoval() {
    Node n = new Node(SETTINGS, storeAt(5, stable("node1", "node2", "node3")));
    assertEquals(5, n.snapshots.receiveMessage().epoch());
    n.ring.tell(joined("node2"));
    n.ring.tell(died("node3"));
    ticks(RingSettings.ticks(SETTINGS.removalDelay) - 2);
    n.ring.tell(alive("node3"));
    ticks(RingSettings.ticks(SETTINGS.removalDelay) + 5);
    assertTrue(!n.status().proposing(), "node3 came back in time: nothing to propose");
    n.ring.tell(died("node3"));
    ticks(RingSettings.ticks(SETTINGS.removalDelay) - 2);
    assertTrue(!n.status().proposing());
    ticks(3);
    RingMessage.Prepare prepare = n.expect("node2", RingMessage.Prepare.class);
    assertEquals(6, prepare.slot());
    n.tell(new RingMessage.Promise(rm("node2"), 6, prepare.ballot(), Ballot.ZERO, null, null));
    RingMessage.Accept accept = n.expect("node2", RingMessage.Accept.class);
    assertEquals(
        Set.of("node1", "node2", "node3"),
        accept.value().currentNames(),
        "reads stay on the old set");
    assertEquals(Set.of("node1", "node2"), accept.value().nextNames());
  }

  @Test
  void aRemovalWithdrawnBecauseAnAcceptorSeesTheMemberUpWaitsAnotherRemovalDelay() {
    Node n = new Node(SETTINGS, storeAt(5, stable("node1", "node2", "node3")));
    assertEquals(5, n.snapshots.receiveMessage().epoch());
    n.ring.tell(joined("node2"));
    n.ring.tell(died("node3"));
    int delay = RingSettings.ticks(SETTINGS.removalDelay);
    ticks(delay + 1);
    RingMessage.Prepare prepare = n.expect("node2", RingMessage.Prepare.class);
    // node2 still sees node3 up (a partition healing sooner on its side): node1 withdraws
    n.tell(
        new RingMessage.Promise(
            rm("node2"), 6, prepare.ballot(), Ballot.ZERO, null, Set.of("node2", "node3")));
    assertTrue(!n.status().proposing(), "withdrawn at once");
    ticks(delay - 2);
    assertTrue(!n.status().proposing(), "node3's removal delay started again at the veto");
    ticks(3);
    assertTrue(n.status().proposing(), "still DEAD here a whole delay later: proposed again");
    RingMessage.Prepare again = n.expect("node2", RingMessage.Prepare.class);
    n.tell(new RingMessage.Promise(rm("node2"), 6, again.ballot(), Ballot.ZERO, null, null));
    assertEquals(
        Set.of("node1", "node2"), n.expect("node2", RingMessage.Accept.class).value().nextNames());
  }

  @Test
  void anAcceptorAnswersOnlyOnceItsPromiseIsSaved() {
    List<RingState> saves = new ArrayList<>();
    RingStateStore inner = storeAt(5, stable("node1", "node2", "node3"));
    RingStateStore recording =
        new RingStateStore() {
          @Override
          public RingState load() {
            return inner.load();
          }

          @Override
          public synchronized void save(RingState state) {
            saves.add(state);
            inner.save(state);
          }
        };
    Node n = new Node(SETTINGS, recording);
    Ballot ballot = new Ballot(7, "node2");
    n.tell(new RingMessage.Prepare(rm("node2"), 6, ballot));
    RingMessage.Promise promise = n.expect("node2", RingMessage.Promise.class);
    assertEquals(ballot, promise.ballot());
    synchronized (recording) {
      assertEquals(
          ballot, saves.get(saves.size() - 1).promised(), "saved before the promise was sent");
    }
    // a lower ballot is refused with the promised one
    n.tell(new RingMessage.Prepare(rm("node3"), 6, new Ballot(3, "node3")));
    RingMessage.Nack nack = n.expect("node3", RingMessage.Nack.class);
    assertEquals(ballot, nack.promised());
    // a prepare for an epoch already committed is answered with the latest configuration
    n.tell(new RingMessage.Prepare(rm("node3"), 4, new Ballot(9, "node3")));
    RingMessage.EpochState state = n.expect("node3", RingMessage.EpochState.class);
    assertEquals(5, state.epoch());
  }

  @Test
  void aRestartedNodeResumesAtItsPersistedEpochFromItsDataDir(@TempDir Path dir) {
    Node first = new Node(FOUNDING, RingStateStore.inDirectory(dir));
    assertEquals(1, first.snapshots.receiveMessage().epoch());
    first.ring.tell(joined("node2"));
    ticks(1);
    assertEquals(2, first.snapshots.receiveMessage().epoch());
    testKit.stop(first.ring);

    // founding is ignored once state exists: the node resumes where it was
    Node again = new Node(FOUNDING, RingStateStore.inDirectory(dir));
    RingSnapshot resumed = again.snapshots.receiveMessage();
    assertEquals(2, resumed.epoch());
    assertEquals(List.of("node1", "node2"), resumed.next().members());
    assertEquals(2, again.view.current().epoch());
  }

  @Test
  void aLaterEpochObservedElsewhereIsAskedForAtOnce() {
    Node n = new Node(SETTINGS, storeAt(5, stable("node1", "node2", "node3")));
    n.ring.tell(new RingActor.Observed(9, rm("node3").clusterAddress()));
    assertEquals(5, n.expect("node3", RingMessage.EpochQuery.class).epoch());
    n.tell(new RingMessage.EpochState(rm("node3"), 9, stable("node1", "node3")));
    n.snapshots.receiveMessage(); // 5
    assertEquals(9, n.snapshots.receiveMessage().epoch());
    // and an older epoch shown by a message is not taken
    n.tell(new RingMessage.EpochState(rm("node2"), 7, stable("node1", "node2")));
    assertEquals(9, n.status().epoch());
  }

  @Test
  void forceRemoveIsRefusedForAliveSelfOrUnknownMembersAndCommitsWithoutADeadOne() {
    Node n = new Node(SETTINGS, storeAt(5, stable("node1", "node2", "node3")));
    n.ring.tell(joined("node2"));
    n.ring.tell(joined("node3"));
    TestProbe<RingActor.OperatorReply> reply = testKit.createTestProbe();
    n.ring.tell(new RingActor.ForceRemove("node1", reply.getRef()));
    assertEquals("bad-request", ((RingActor.OperatorRefused) reply.receiveMessage()).reason());
    n.ring.tell(new RingActor.ForceRemove("node9", reply.getRef()));
    assertEquals("not-found", ((RingActor.OperatorRefused) reply.receiveMessage()).reason());
    n.ring.tell(new RingActor.ForceRemove("node3", reply.getRef()));
    assertEquals("conflict", ((RingActor.OperatorRefused) reply.receiveMessage()).reason());

    n.ring.tell(died("node3"));
    n.ring.tell(new RingActor.ForceRemove("node3", reply.getRef()));
    RingMessage.Prepare prepare = n.expect("node2", RingMessage.Prepare.class);
    n.tell(new RingMessage.Promise(rm("node2"), 6, prepare.ballot(), Ballot.ZERO, null, null));
    RingMessage.Accept accept = n.expect("node2", RingMessage.Accept.class);
    n.tell(new RingMessage.Accepted(rm("node2"), 6, accept.ballot()));
    RingActor.OperatorDone done =
        assertInstanceOf(RingActor.OperatorDone.class, reply.receiveMessage());
    assertEquals(6, done.epoch());
    RingConfig config = n.status().config();
    assertEquals(Set.of("node1", "node2"), config.memberNames());
    assertTrue(config.retired().containsKey("node3"));
  }

  @Test
  void aDecommissionedNodeStopsOnceAStableEpochWithoutItCommits() {
    Node n = new Node(SETTINGS, storeAt(5, stable("node1", "node2")));
    n.ring.tell(joined("node2"));
    TestProbe<RingActor.OperatorReply> reply = testKit.createTestProbe();
    n.ring.tell(new RingActor.Decommission(reply.getRef()));
    RingMessage.Prepare prepare = n.expect("node2", RingMessage.Prepare.class);
    n.tell(new RingMessage.Promise(rm("node2"), 6, prepare.ballot(), Ballot.ZERO, null, null));
    RingMessage.Accept accept = n.expect("node2", RingMessage.Accept.class);
    assertEquals(Set.of("node2"), accept.value().nextNames());
    n.tell(new RingMessage.Accepted(rm("node2"), 6, accept.ballot()));
    assertEquals(6, assertInstanceOf(RingActor.OperatorDone.class, reply.receiveMessage()).epoch());
    assertNull(
        n.stopped.get(), "still in current: it serves until its ranges are filled elsewhere");
    // node1 still leads (it is in current); node2 gains nothing (it already held everything)
    ticks(1);
    RingMessage.Prepare move = n.expect("node2", RingMessage.Prepare.class);
    n.tell(new RingMessage.Promise(rm("node2"), 7, move.ballot(), Ballot.ZERO, null, null));
    RingMessage.Accept moved = n.expect("node2", RingMessage.Accept.class);
    assertTrue(moved.value().readsMoved());
    n.tell(new RingMessage.Accepted(rm("node2"), 7, moved.ballot()));
    assertNull(n.stopped.get(), "writes still reach it until the stable epoch");
    // the barrier: both old replicas must be at epoch 7 (R=2 of the two) before node1 is dropped
    ticks(2);
    assertEquals(7, n.status().epoch());
    n.tell(new RingMessage.FillDone(rm("node2"), 7, "node2"));
    n.ring.tell(new RingActor.FillDone(7));
    ticks(1);
    RingMessage.Prepare finish = n.expect("node2", RingMessage.Prepare.class);
    n.tell(new RingMessage.Promise(rm("node2"), 8, finish.ballot(), Ballot.ZERO, null, null));
    RingMessage.Accept stable = n.expect("node2", RingMessage.Accept.class);
    assertEquals(Set.of("node2"), stable.value().currentNames());
    n.tell(new RingMessage.Accepted(rm("node2"), 8, stable.ballot()));
    assertEquals(8, n.status().epoch());
    assertTrue(
        n.stopped.get() != null && n.stopped.get().contains("decommissioned"),
        String.valueOf(n.stopped.get()));
  }

  @Test
  void subscribersHearEveryEpochAfterTheViewAndStoppedOnesAreForgotten() {
    Node n = new Node(FOUNDING, RingStateStore.inMemory());
    n.snapshots.receiveMessage();
    TestProbe<RingSnapshot> gone = testKit.createTestProbe();
    n.ring.tell(new RingActor.Subscribe(gone.getRef()));
    assertEquals(1, gone.receiveMessage().epoch());
    gone.stop();
    n.ring.tell(joined("node2"));
    ticks(1);
    RingSnapshot second = n.snapshots.receiveMessage();
    assertEquals(2, second.epoch());
    assertSame(second, n.view.current());
  }
}
