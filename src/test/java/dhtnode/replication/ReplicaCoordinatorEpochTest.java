package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import dhtnode.metrics.Metrics;
import dhtnode.replication.ReplicaCoordinator.Found;
import dhtnode.replication.ReplicaCoordinator.Operation;
import dhtnode.replication.ReplicaCoordinator.Result;
import dhtnode.replication.ReplicaCoordinator.Run;
import dhtnode.replication.ReplicaCoordinator.Written;
import dhtnode.storage.HybridClock;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StorageActor.Get;
import dhtnode.storage.StorageActor.Put;
import dhtnode.storage.StorageActor.ReadResult;
import dhtnode.storage.StorageActor.WriteResult;
import dhtnode.storage.StorageActor.WrongEpoch;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator under ring epochs: every request carries its epoch, answers given at another
 * epoch never count, a fenced request retries on the ring this node catches up to, and during a
 * transition writes need W in both replica sets while reads ask the old set only.
 */
class ReplicaCoordinatorEpochTest {
  static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final String KEY = "k";
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration RETRY = Duration.ofMillis(20);
  private static final Quorum QUORUM = new Quorum(2, 2, true);

  private TestProbe<StorageActor.Command> a;
  private TestProbe<StorageActor.Command> b;
  private TestProbe<StorageActor.Command> c;
  private TestProbe<StorageActor.Command> d;
  private TestProbe<Result> client;

  /** Where the coordinator says which node is at a later epoch ("node@epoch"). */
  private TestProbe<String> observed;

  /** What this node's ring says now; a test moves it forward as a catch-up would. */
  private volatile Placement placement;

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void replicas() {
    a = testKit.createTestProbe(StorageActor.Command.class);
    b = testKit.createTestProbe(StorageActor.Command.class);
    c = testKit.createTestProbe(StorageActor.Command.class);
    d = testKit.createTestProbe(StorageActor.Command.class);
    client = testKit.createTestProbe(Result.class);
    observed = testKit.createTestProbe(String.class);
  }

  private List<Replica> abc() {
    return List.of(
        new Replica("a", a.getRef()), new Replica("b", b.getRef()), new Replica("c", c.getRef()));
  }

  /** Old set {a, b, c} (read), new set {a, b, d}: d gains the key, c loses it. */
  private Placement transition(long epoch) {
    List<Replica> all =
        List.of(
            new Replica("a", a.getRef()),
            new Replica("b", b.getRef()),
            new Replica("c", c.getRef()),
            new Replica("d", d.getRef()));
    return new Placement(epoch, all, 3, List.of(new int[] {0, 1, 2}, new int[] {0, 1, 3}));
  }

  private void run(Operation op) {
    testKit
        .spawn(
            ReplicaCoordinator.create(
                op,
                KEY,
                QUORUM,
                new ReplicaCoordinator.Node(
                    key -> placement,
                    new HybridClock(() -> 1_000L),
                    null,
                    "local",
                    TIMEOUT,
                    (epoch, node) -> observed.getRef().tell(node + "@" + epoch),
                    RETRY,
                    new Metrics("local"),
                    null,
                    null)))
        .tell(new Run(client.getRef()));
  }

  private static Versioned value(String text, long ts) {
    return Versioned.of(text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, "w"));
  }

  private static Get get(TestProbe<StorageActor.Command> replica, long epoch) {
    Get get = replica.expectMessageClass(Get.class);
    assertEquals(epoch, get.epoch(), "every request carries the coordinator's epoch");
    return get;
  }

  private static Put put(TestProbe<StorageActor.Command> replica, long epoch) {
    Put put = replica.expectMessageClass(Put.class);
    assertEquals(epoch, put.epoch());
    return put;
  }

  private static void ack(Put put) {
    put.replyTo().tell(new WriteResult(KEY, put.value(), true, put.tag()));
  }

  @Test
  void aRequestFencedByALaterEpochWaitsUntilThisNodeHasCaughtUp() {
    placement = Placement.stable(3, abc());
    run(new Operation.Read());
    Get toA = get(a, 3);
    Get toB = get(b, 3);
    get(c, 3);
    toA.replyTo().tell(new WrongEpoch(KEY, 4, toA.tag()));
    toB.replyTo().tell(new WrongEpoch(KEY, 4, toB.tag()));
    assertEquals("a@4", observed.receiveMessage(), "the ring is told whom to catch up from");
    assertEquals("b@4", observed.receiveMessage());
    manualTime.timePasses(RETRY);
    manualTime.timePasses(RETRY);
    a.expectNoMessage(
        Duration.ofMillis(50)); // this node is still at epoch 3: asking again is pointless
    placement = Placement.stable(4, abc());
    manualTime.timePasses(RETRY);
    get(a, 4);
    get(b, 4);
    get(c, 4);
  }

  @Test
  void aFencedReadRetriesOnTheNewEpochAndAnswersFromItsReplicasOnly() {
    placement = Placement.stable(3, abc());
    run(new Operation.Read());
    Get toA = get(a, 3);
    Get toB = get(b, 3);
    Get toC = get(c, 3);
    toA.replyTo().tell(new WrongEpoch(KEY, 4, toA.tag()));
    toB.replyTo().tell(new WrongEpoch(KEY, 4, toB.tag()));
    placement = Placement.stable(4, abc());
    toC.replyTo().tell(new ReadResult(KEY, value("stale", 5), toC.tag())); // an abandoned attempt
    manualTime.timePasses(RETRY);
    Versioned fresh = value("fresh", 9);
    Get again = get(a, 4);
    again.replyTo().tell(new ReadResult(KEY, fresh, again.tag()));
    Get againB = get(b, 4);
    againB.replyTo().tell(new ReadResult(KEY, fresh, againB.tag()));
    get(c, 4);
    assertEquals(fresh, client.expectMessageClass(Found.class).value());
  }

  @Test
  void aReplicaBehindTheCoordinatorIsRetriedUntilItHasCaughtUp() {
    placement = Placement.stable(5, abc());
    run(new Operation.Read());
    Get toA = get(a, 5);
    Get toB = get(b, 5);
    Get toC = get(c, 5);
    toA.replyTo().tell(new WrongEpoch(KEY, 4, toA.tag()));
    toB.replyTo().tell(new WrongEpoch(KEY, 4, toB.tag()));
    toC.replyTo().tell(new WrongEpoch(KEY, 4, toC.tag()));
    manualTime.timePasses(RETRY);
    Versioned v = value("v", 9);
    for (TestProbe<StorageActor.Command> r : List.of(a, b, c)) {
      Get g = get(r, 5);
      g.replyTo().tell(new ReadResult(KEY, v, g.tag()));
    }
    assertEquals(v, client.expectMessageClass(Found.class).value());
    observed.expectNoMessage(
        Duration.ofMillis(50)); // an older epoch is the replica's to catch up, not ours
  }

  @Test
  void aFencedWriteIsSentAgainUnderTheSameVersion() {
    placement = Placement.stable(3, abc());
    run(new Operation.Write("x".getBytes(StandardCharsets.UTF_8), "text/plain"));
    Put toA = put(a, 3);
    Put toB = put(b, 3);
    Put toC = put(c, 3);
    ack(toA); // stored at epoch 3 before the replicas moved on
    toB.replyTo().tell(new WrongEpoch(KEY, 4, toB.tag()));
    toC.replyTo().tell(new WrongEpoch(KEY, 4, toC.tag()));
    placement = Placement.stable(4, abc());
    manualTime.timePasses(RETRY);
    Put againA = put(a, 4);
    assertEquals(toA.value(), againA.value(), "one client write, one version");
    ack(againA);
    ack(put(b, 4));
    put(c, 4);
    assertEquals(toA.value().version(), client.expectMessageClass(Written.class).version());
  }

  @Test
  void duringATransitionAWriteNeedsWFromTheOldAndFromTheNewReplicaSet() {
    placement = transition(7);
    run(new Operation.Write("x".getBytes(StandardCharsets.UTF_8), "text/plain"));
    Put toA = put(a, 7);
    put(b, 7);
    Put toC = put(c, 7);
    Put toD = put(d, 7);
    ack(toA);
    ack(toC); // W=2 in the old set {a, b, c}, but only a in the new set {a, b, d}
    client.expectNoMessage(Duration.ofMillis(50));
    ack(toD);
    client.expectMessageClass(Written.class);
  }

  @Test
  void duringATransitionAReadAsksTheOldSetAndLeavesTheValueOnWOfBothSets() {
    placement = transition(7);
    run(new Operation.Read());
    Versioned v = value("v", 9);
    for (TestProbe<StorageActor.Command> r : List.of(a, c)) {
      Get g = get(r, 7);
      g.replyTo().tell(new ReadResult(KEY, v, g.tag()));
    }
    get(b, 7);
    // d is still filling, so it is never read; a and c hold the value, W of the old set but only
    // one of the new set {a, b, d}: d is written to before the read answers
    Put repair = put(d, 7);
    assertEquals(v, repair.value());
    client.expectNoMessage(Duration.ofMillis(50));
    ack(repair);
    assertEquals(v, client.expectMessageClass(Found.class).value());
  }

  @Test
  void aOneRoundVersionStoredBeforeAFenceIsNeverWrittenAgainUnderAnother() {
    placement = Placement.stable(3, abc());
    run(new Operation.Write("x".getBytes(StandardCharsets.UTF_8), "text/plain"));
    Put toA = put(a, 3);
    Put toB = put(b, 3);
    Put toC = put(c, 3);
    ack(toA); // stored on a: a read may return it from now on
    toB.replyTo().tell(new WrongEpoch(KEY, 4, toB.tag()));
    toC.replyTo().tell(new WrongEpoch(KEY, 4, toC.tag()));
    placement = Placement.stable(4, abc());
    manualTime.timePasses(RETRY);
    Versioned newer = value("z", 5_000_000L << 16);
    for (TestProbe<StorageActor.Command> r : List.of(a, b, c)) {
      Put again = put(r, 4);
      assertEquals(toA.value(), again.value());
      again
          .replyTo()
          .tell(new WriteResult(KEY, newer, false, again.tag())); // a later write won everywhere
    }
    ReplicaCoordinator.Unavailable u =
        client.expectMessageClass(ReplicaCoordinator.Unavailable.class);
    assertTrue(u.outcomeUnknown(), "x was stored once and may have been read: never restamped");
    for (TestProbe<StorageActor.Command> r : List.of(a, b, c)) {
      r.expectNoMessage(Duration.ofMillis(50)); // no version read, no second version
    }
  }
}
