package dhtnode.replication;

import dhtnode.metrics.Metrics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dhtnode.replication.ReplicaCoordinator.Found;
import dhtnode.replication.ReplicaCoordinator.NotFound;
import dhtnode.replication.ReplicaCoordinator.Operation;
import dhtnode.replication.ReplicaCoordinator.Result;
import dhtnode.replication.ReplicaCoordinator.Run;
import dhtnode.replication.ReplicaCoordinator.Unavailable;
import dhtnode.replication.ReplicaCoordinator.Written;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StorageActor.Get;
import dhtnode.storage.StorageActor.Put;
import dhtnode.storage.StorageActor.ReadResult;
import dhtnode.storage.StorageActor.StorageFailed;
import dhtnode.storage.StorageActor.WriteResult;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The coordinator against probes playing each replica's storage; time is manual. */
class ReplicaCoordinatorTest {
  static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final String KEY = "k";
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Metrics METRICS = new Metrics("local");
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final Quorum ONE = new Quorum(1, 1);
  private static final Quorum QUORUM = new Quorum(2, 2);
  private static final Quorum ALL = new Quorum(3, 3);

  private TestProbe<StorageActor.Command> a;
  private TestProbe<StorageActor.Command> b;
  private TestProbe<StorageActor.Command> c;
  private List<Replica> replicas;
  private TestProbe<Result> client;
  /** Wall clock pinned at 1000 ms, so versions are predictable and "the future" is easy to make. */
  private HybridClock clock;

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void replicas() {
    a = testKit.createTestProbe(StorageActor.Command.class);
    b = testKit.createTestProbe(StorageActor.Command.class);
    c = testKit.createTestProbe(StorageActor.Command.class);
    replicas = List.of(new Replica("a", a.getRef()), new Replica("b", b.getRef()), new Replica("c", c.getRef()));
    client = testKit.createTestProbe(Result.class);
    clock = new HybridClock(() -> 1_000L);
  }

  private ActorRef<ReplicaCoordinator.Command> run(Operation op, Quorum quorum) {
    return run(op, quorum, replicas);
  }

  private ActorRef<ReplicaCoordinator.Command> run(Operation op, Quorum quorum, List<Replica> to) {
    ActorRef<ReplicaCoordinator.Command> coordinator =
        testKit.spawn(ReplicaCoordinator.create(op, KEY, to, quorum, clock, "local", TIMEOUT, METRICS));
    coordinator.tell(new Run(client.getRef()));
    return coordinator;
  }

  private static Versioned value(String text, long timestamp, String writer) {
    return Versioned.of(text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(timestamp, writer));
  }

  private static Operation.Write write(String text) {
    return new Operation.Write(text.getBytes(StandardCharsets.UTF_8), "text/plain");
  }

  private static Get expectGet(TestProbe<StorageActor.Command> replica) {
    Get get = replica.expectMessageClass(Get.class);
    assertEquals(KEY, get.key());
    return get;
  }

  /** Answers a read the way a replica does: echoing the request's tag. */
  private static void answer(Get get, Versioned holds) {
    get.replyTo().tell(new ReadResult(KEY, holds, get.tag()));
  }

  private static void answerGet(TestProbe<StorageActor.Command> replica, Versioned holds) {
    answer(expectGet(replica), holds);
  }

  private static Put expectPut(TestProbe<StorageActor.Command> replica) {
    Put put = replica.expectMessageClass(Put.class);
    assertEquals(KEY, put.key());
    return put;
  }

  /** Acknowledges a write the way a replica that stored it does: echoing the request's tag. */
  private static void ack(Put put) {
    put.replyTo().tell(new WriteResult(KEY, put.value(), true, put.tag()));
  }

  private static Put ackPut(TestProbe<StorageActor.Command> replica) {
    Put put = expectPut(replica);
    ack(put);
    return put;
  }

  private static void fail(Put put, String reason) {
    put.replyTo().tell(new StorageFailed(KEY, reason, put.tag()));
  }

  private static void fail(Get get, String reason) {
    get.replyTo().tell(new StorageFailed(KEY, reason, get.tag()));
  }

  // ---- writes ----

  @Test
  void writeSucceedsOnceAWriteQuorumAcknowledgedAndIgnoresTheSlowReplica() {
    ActorRef<ReplicaCoordinator.Command> coordinator = run(write("hello"), QUORUM);
    answerGet(a, null);
    answerGet(b, null);
    Get slowGet = expectGet(c);
    Put toA = ackPut(a);
    ackPut(b);
    Put toC = expectPut(c);

    Written written = client.expectMessageClass(Written.class);
    assertEquals(toA.value().version(), written.version());
    assertEquals("hello", new String(toA.value().value(), StandardCharsets.UTF_8));
    assertEquals("local", written.version().writer());

    // The slow replica answers after the reply: nothing more is sent, and the coordinator stops.
    answer(slowGet, null);
    ack(toC);
    client.expectTerminated(coordinator, Duration.ofSeconds(3));
    client.expectNoMessage(Duration.ZERO);
  }

  @Test
  void writeIsStampedAboveAVersionFromTheFutureSeenInTheVersionRead() {
    long farFuture = 5_000_000L << 16; // far ahead of this node's pinned 1000 ms wall clock
    Version future = new Version(farFuture, "zz-fast-clock");
    run(write("later"), QUORUM);
    answerGet(a, value("old", farFuture, "zz-fast-clock"));
    answerGet(b, null);
    expectGet(c);

    Put put = ackPut(a);
    ackPut(b);
    Written written = client.expectMessageClass(Written.class);
    assertTrue(written.version().isNewerThan(future),
        "new version " + written.version() + " must beat the completed write " + future);
    assertTrue(written.version().timestamp() > farFuture, "beats it on time, not only on writer name");
    assertEquals(put.value().version(), written.version());
  }

  @Test
  void deleteWritesATombstoneToEveryReplica() {
    run(new Operation.Delete(), QUORUM);
    answerGet(a, value("x", 1L << 16, "a"));
    answerGet(b, value("x", 1L << 16, "a"));
    expectGet(c);
    assertTrue(ackPut(a).value().tombstone());
    assertTrue(ackPut(b).value().tombstone());
    assertTrue(expectPut(c).value().tombstone());
    client.expectMessageClass(Written.class);
  }

  @Test
  void writeThatMissesItsWriteQuorumBeforeTheTimeoutIsUnavailableWithOutcomeUnknown() {
    run(write("v"), QUORUM);
    answerGet(a, null);
    answerGet(b, null);
    answerGet(c, null);
    ackPut(a);
    expectPut(b);
    expectPut(c);

    manualTime.timePasses(TIMEOUT);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertTrue(unavailable.outcomeUnknown(), "the value reached replicas and may surface through repair");
    assertEquals(List.of("a"), unavailable.answered());
  }

  @Test
  void writeFailsFastWithOutcomeUnknownWhenTooManyReplicasFailTheWrite() {
    run(write("v"), QUORUM);
    answerGet(a, null);
    answerGet(b, null);
    expectGet(c);
    ackPut(b);
    fail(expectPut(a), "disk full");
    fail(expectPut(c), "disk full");

    // No time passes: two failures out of three leave no way to reach W=2.
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertTrue(unavailable.outcomeUnknown());
    assertEquals(List.of("b"), unavailable.answered());
  }

  @Test
  void aLateVersionReadIsNotTakenForAWriteAckNorAReplyTwice() {
    run(write("v"), QUORUM);
    answerGet(a, null);
    answerGet(b, null);
    Get lateGet = expectGet(c);
    Put toA = ackPut(a);
    expectPut(b);
    Put toC = expectPut(c);

    // c's version read and a second copy of a's ack arrive while the write waits for W=2 acks:
    // neither is c's ack, so the write is not yet acknowledged.
    answer(lateGet, null);
    ack(toA);
    client.expectNoMessage(QUIET);
    ack(toC);
    assertEquals(toA.value().version(), client.expectMessageClass(Written.class).version());
  }

  @Test
  void writeWhoseVersionReadMissesTheReadQuorumSendsNothingAndIsNotOutcomeUnknown() {
    run(write("v"), QUORUM);
    answerGet(a, null);
    expectGet(b);
    expectGet(c);

    manualTime.timePasses(TIMEOUT);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertFalse(unavailable.outcomeUnknown(), "no replica was sent the value");
    assertEquals(List.of("a"), unavailable.answered());
    a.expectNoMessage(Duration.ZERO);
    b.expectNoMessage(Duration.ZERO);
    c.expectNoMessage(Duration.ZERO);
  }

  @Test
  void consistencyOneWriteNeedsOneVersionReadAndOneAck() {
    run(write("v"), ONE);
    expectGet(a);
    answerGet(b, null);
    expectGet(c);
    ackPut(a);
    expectPut(b);
    expectPut(c);
    client.expectMessageClass(Written.class);
  }

  @Test
  void consistencyAllWriteNeedsEveryReplicaInBothPhases() {
    run(write("v"), ALL);
    answerGet(a, null);
    answerGet(b, null);
    Get last = expectGet(c);
    a.expectNoMessage(QUIET); // two version reads are not enough to stamp the write
    answer(last, null);
    ackPut(a);
    ackPut(b);
    Put toC = expectPut(c);
    client.expectNoMessage(QUIET); // two acks are not enough either
    ack(toC);
    client.expectMessageClass(Written.class);
  }

  @Test
  void tooFewReplicasForTheLevelIsUnavailableAtOnceWithoutContactingAnyone() {
    run(write("v"), ALL, replicas.subList(0, 2));
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertFalse(unavailable.outcomeUnknown());
    assertEquals(List.of(), unavailable.answered());
    assertTrue(unavailable.message().contains("needs 3"), unavailable.message());
    a.expectNoMessage(Duration.ZERO);
    b.expectNoMessage(Duration.ZERO);
  }

  // ---- reads ----

  @Test
  void readReturnsTheNewestOfTheReadQuorumAndRepairsALateStaleReplicaWithoutWaiting() {
    Versioned newest = value("new", 9L << 16, "a");
    run(new Operation.Read(), QUORUM);
    answerGet(a, newest);
    answerGet(b, newest);
    Get slow = expectGet(c);

    Found found = client.expectMessageClass(Found.class);
    assertEquals(newest, found.value());
    a.expectNoMessage(Duration.ZERO);

    // The slow replica answers after the reply with an older value: it gets the newest, unasked.
    answer(slow, value("old", 3L << 16, "b"));
    assertEquals(newest, expectPut(c).value());
    client.expectNoMessage(QUIET);
  }

  @Test
  void readWritesTheNewestBackToAStaleReplicaAndAnswersOnlyOnceWReplicasHoldIt() {
    Versioned newest = value("new", 9L << 16, "a");
    run(new Operation.Read(), QUORUM);
    answerGet(a, newest);
    answerGet(b, value("old", 3L << 16, "b"));
    expectGet(c); // c never answers

    Put repair = expectPut(b);
    assertEquals(newest, repair.value());
    client.expectNoMessage(QUIET); // only a holds it so far; W=2
    ack(repair);
    assertEquals(newest, client.expectMessageClass(Found.class).value());
  }

  @Test
  void everyWriteBackToAStaleReplicaIsCountedAsAReadRepair() {
    Metrics metrics = new Metrics("local");
    Versioned newest = value("new", 9L << 16, "a");
    testKit.spawn(ReplicaCoordinator.create(new Operation.Read(), KEY, replicas, QUORUM, clock, "local", TIMEOUT, metrics))
        .tell(new Run(client.getRef()));
    answerGet(a, newest);
    answerGet(b, value("old", 3L << 16, "b"));
    Get late = expectGet(c);
    ackPut(b); // blocking repair
    client.expectMessageClass(Found.class);
    answer(late, null);
    expectPut(c); // repair after the reply
    assertEquals(2.0, metrics.registry().get("dht.read.repairs").counter().count());
    assertEquals(0.0, metrics.registry().get("dht.timeouts").tag("op", "read").counter().count());
  }

  @Test
  void aRequestStillWaitingAtItsDeadlineIsCountedAsATimeout() {
    Metrics metrics = new Metrics("local");
    testKit.spawn(ReplicaCoordinator.create(write("v"), KEY, replicas, QUORUM, clock, "local", TIMEOUT, metrics))
        .tell(new Run(client.getRef()));
    expectGet(a);
    expectGet(b);
    expectGet(c); // nobody answers the version read
    manualTime.timePasses(TIMEOUT);
    client.expectMessageClass(Unavailable.class);
    assertEquals(1.0, metrics.registry().get("dht.timeouts").tag("op", "write").counter().count());
    assertEquals(0.0, metrics.registry().get("dht.read.repairs").counter().count());
  }

  @Test
  void readRepairsAReplicaThatHoldsNothing() {
    Versioned newest = value("new", 9L << 16, "a");
    run(new Operation.Read(), QUORUM);
    expectGet(a); // a never answers
    answerGet(b, null);
    answerGet(c, newest);
    ackPut(b);
    assertEquals(newest, client.expectMessageClass(Found.class).value());
  }

  @Test
  void readWhoseRepairCannotReachWReplicasInTimeIsUnavailable() {
    run(new Operation.Read(), QUORUM);
    answerGet(a, value("new", 9L << 16, "a"));
    answerGet(b, null);
    expectGet(c);
    expectPut(b); // the write-back is never acknowledged

    manualTime.timePasses(TIMEOUT);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertEquals(List.of("a", "b"), unavailable.answered());
    assertFalse(unavailable.outcomeUnknown());
  }

  @Test
  void readOfATombstoneIsNotFoundWithTheDeleteVersion() {
    Versioned tombstone = Versioned.tombstone(new Version(7L << 16, "a"));
    run(new Operation.Read(), QUORUM);
    answerGet(a, tombstone);
    answerGet(b, value("older", 5L << 16, "b"));
    expectGet(c);
    assertSame(tombstone, ackPut(b).value()); // the delete is repaired like any value
    assertEquals(tombstone.version(), client.expectMessageClass(NotFound.class).tombstone());
  }

  @Test
  void readOfAKeyNoReplicaHoldsIsNotFoundWithoutRepair() {
    run(new Operation.Read(), QUORUM);
    answerGet(a, null);
    answerGet(b, null);
    expectGet(c);
    assertNull(client.expectMessageClass(NotFound.class).tombstone());
    a.expectNoMessage(Duration.ZERO);
    b.expectNoMessage(Duration.ZERO);
  }

  @Test
  void readThatMissesTheReadQuorumIsUnavailableNamingWhoAnswered() {
    run(new Operation.Read(), QUORUM);
    expectGet(a);
    answerGet(b, value("v", 1L << 16, "b"));
    expectGet(c);
    client.expectNoMessage(QUIET);

    manualTime.timePasses(TIMEOUT);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertEquals(List.of("b"), unavailable.answered());
    assertFalse(unavailable.outcomeUnknown());
  }

  @Test
  void readFailsFastWhenStorageErrorsLeaveTooFewReplicas() {
    run(new Operation.Read(), QUORUM);
    fail(expectGet(a), "io error");
    fail(expectGet(b), "io error");
    expectGet(c);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertEquals(List.of(), unavailable.answered());
  }

  @Test
  void consistencyOneReadAnswersAfterTheFirstReply() {
    Versioned only = value("v", 4L << 16, "c");
    run(new Operation.Read(), ONE);
    expectGet(a);
    expectGet(b);
    answerGet(c, only);
    assertEquals(only, client.expectMessageClass(Found.class).value());
  }

  @Test
  void consistencyAllReadRepairsEveryStaleReplicaBeforeAnswering() {
    Versioned newest = value("new", 9L << 16, "a");
    run(new Operation.Read(), ALL);
    answerGet(a, newest);
    answerGet(b, null);
    answerGet(c, value("old", 1L << 16, "c"));
    ackPut(b);
    Put toC = expectPut(c);
    client.expectNoMessage(QUIET); // two holders are not enough at ALL
    ack(toC);
    assertEquals(newest, client.expectMessageClass(Found.class).value());
  }
}
