package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dhtnode.metrics.Metrics;
import dhtnode.replication.ReplicaCoordinator.Found;
import dhtnode.replication.ReplicaCoordinator.NotFound;
import dhtnode.replication.ReplicaCoordinator.Operation;
import dhtnode.replication.ReplicaCoordinator.Result;
import dhtnode.replication.ReplicaCoordinator.Run;
import dhtnode.replication.ReplicaCoordinator.Unavailable;
import dhtnode.replication.ReplicaCoordinator.Written;
import dhtnode.storage.HybridClock;
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
    replicas =
        List.of(
            new Replica("a", a.getRef()),
            new Replica("b", b.getRef()),
            new Replica("c", c.getRef()));
    client = testKit.createTestProbe(Result.class);
    clock = new HybridClock(() -> 1_000L);
  }

  private ActorRef<ReplicaCoordinator.Command> run(Operation op, Quorum quorum) {
    return run(op, quorum, replicas);
  }

  private ActorRef<ReplicaCoordinator.Command> run(Operation op, Quorum quorum, Metrics metrics) {
    ActorRef<ReplicaCoordinator.Command> coordinator =
        testKit.spawn(
            ReplicaCoordinator.create(op, KEY, replicas, quorum, clock, "local", TIMEOUT, metrics));
    coordinator.tell(new Run(client.getRef()));
    return coordinator;
  }

  private ActorRef<ReplicaCoordinator.Command> run(Operation op, Quorum quorum, List<Replica> to) {
    ActorRef<ReplicaCoordinator.Command> coordinator =
        testKit.spawn(
            ReplicaCoordinator.create(op, KEY, to, quorum, clock, "local", TIMEOUT, METRICS));
    coordinator.tell(new Run(client.getRef()));
    return coordinator;
  }

  private static Versioned value(String text, long timestamp, String writer) {
    return Versioned.of(
        text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(timestamp, writer));
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

  // ---- one-round writes (W a majority of the replicas) ----

  private static final Quorum ONE_ROUND = new Quorum(2, 2, true);

  /** Refuses a write the way a replica holding something newer does: it keeps and returns that. */
  private static void refuse(Put put, Versioned holds) {
    put.replyTo().tell(new WriteResult(KEY, holds, false, put.tag()));
  }

  @Test
  void aOneRoundWriteStampsWithTheClockAndNeedsOnlyWAcks() {
    run(write("fast"), ONE_ROUND);
    Put toA = ackPut(a);
    ackPut(b);
    expectPut(c);
    Written written = client.expectMessageClass(Written.class);
    assertEquals(toA.value().version(), written.version());
    assertEquals("local", written.version().writer());
    a.expectNoMessage(QUIET); // no version read
  }

  @Test
  void aOneRoundWriteRefusedByEveryReplicaFallsBackToTwoRoundsAndWinsOverTheNewerVersion() {
    long farFuture = 5_000_000L << 16; // a completed write stamped by a clock far ahead of ours
    Versioned completed = value("earlier", farFuture, "zz-fast-clock");
    Metrics metrics = new Metrics("local");
    run(write("later"), ONE_ROUND, metrics);
    refuse(expectPut(a), completed);
    refuse(expectPut(b), completed);
    refuse(expectPut(c), completed);

    // no replica holds the first version: the bytes may be versioned again, above the refusals
    answerGet(a, completed);
    answerGet(b, completed);
    expectGet(c);
    Put second = ackPut(a);
    ackPut(b);
    Written written = client.expectMessageClass(Written.class);
    assertEquals(second.value().version(), written.version());
    assertTrue(
        written.version().isNewerThan(completed.version()),
        "a later write beats the completed one: "
            + written.version()
            + " vs "
            + completed.version());
    assertEquals(1.0, counter(metrics, "dht.write.fallbacks"));
    assertEquals(0.0, counter(metrics, "dht.write.fallbacks.unavailable"));
  }

  @Test
  void aOneRoundWriteStoredOnOneReplicaAndRefusedByTheOthersIsOutcomeUnknownAndNeverRestamped() {
    Versioned newer = value("concurrent", 5_000_000L << 16, "other");
    Metrics metrics = new Metrics("local");
    ActorRef<ReplicaCoordinator.Command> coordinator = run(write("mine"), ONE_ROUND, metrics);
    Put first = expectPut(a);
    ack(first); // a stored it: a read may already have returned it
    refuse(expectPut(b), newer);
    refuse(expectPut(c), newer);

    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertTrue(unavailable.outcomeUnknown(), unavailable.message());
    assertEquals(List.of("a"), unavailable.answered());
    // the same bytes are never sent again under a second version
    client.expectTerminated(coordinator, Duration.ofSeconds(3));
    a.expectNoMessage(Duration.ZERO);
    b.expectNoMessage(Duration.ZERO);
    c.expectNoMessage(Duration.ZERO);
    assertEquals(1.0, counter(metrics, "dht.write.fallbacks"));
    assertEquals(1.0, counter(metrics, "dht.write.fallbacks.unavailable"));
  }

  @Test
  void aOneRoundWriteWaitsForTheLastFirstRoundReplyBeforeDecidingToWriteAgain() {
    Versioned newer = value("concurrent", 5_000_000L << 16, "other");
    run(write("mine"), ONE_ROUND);
    refuse(expectPut(a), newer);
    refuse(expectPut(b), newer);
    Put late = expectPut(c);

    // W is out of reach, but c may still store the first version: no second round yet
    client.expectNoMessage(QUIET);
    a.expectNoMessage(Duration.ZERO);

    refuse(late, newer); // it refuses too: the first version is nowhere, so two rounds are safe
    answerGet(a, newer);
    answerGet(b, newer);
    expectGet(c);
    Put second = ackPut(a);
    ackPut(b);
    expectPut(c);
    Written written = client.expectMessageClass(Written.class);
    assertEquals(second.value().version(), written.version());
    assertTrue(written.version().isNewerThan(newer.version()));
  }

  @Test
  void aLateFirstRoundAckEndsTheWriteAsOutcomeUnknownInsteadOfASecondRound() {
    Versioned newer = value("concurrent", 5_000_000L << 16, "other");
    run(write("mine"), ONE_ROUND);
    refuse(expectPut(a), newer);
    refuse(expectPut(b), newer);
    Put late = expectPut(c);
    client.expectNoMessage(QUIET);

    ack(late);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertTrue(unavailable.outcomeUnknown());
    assertEquals(List.of("c"), unavailable.answered());
    a.expectNoMessage(QUIET); // no version read, no second version
  }

  @Test
  void aOneRoundWriteWhoseLastFirstRoundReplyNeverComesIsOutcomeUnknownAtTheDeadline() {
    Versioned newer = value("concurrent", 5_000_000L << 16, "other");
    run(write("mine"), ONE_ROUND);
    refuse(expectPut(a), newer);
    refuse(expectPut(b), newer);
    expectPut(c);

    manualTime.timePasses(TIMEOUT);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertTrue(unavailable.outcomeUnknown(), "c may hold the first version");
    a.expectNoMessage(Duration.ZERO);
  }

  @Test
  void aReplicaHoldingTheSameVersionWithOtherBytesIsNotCountedAsHoldingTheWrite() {
    run(write("mine"), ONE_ROUND);
    Put toA = expectPut(a);
    Versioned impostor =
        Versioned.of("other".getBytes(StandardCharsets.UTF_8), "text/plain", toA.value().version());
    refuse(toA, impostor);
    ackPut(b);
    Put toC = expectPut(c);
    client.expectNoMessage(QUIET); // one ack: not W yet, a does not count
    ack(toC);
    client.expectMessageClass(Written.class);
  }

  @Test
  void aTwoRoundWriteIsNotAcknowledgedByAReplicaHoldingItsVersionWithOtherBytes() {
    run(write("mine"), QUORUM);
    answerGet(a, null);
    answerGet(b, null);
    expectGet(c);
    Put toA = expectPut(a);
    refuse(toA, Versioned.tombstone(toA.value().version()));
    fail(expectPut(b), "disk full");
    expectPut(c);
    // a holds the version as a tombstone, not our value: with b failed, W is out of reach
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertTrue(unavailable.outcomeUnknown());
    assertEquals(List.of(), unavailable.answered());
  }

  /**
   * The execution that made one write take effect twice, replayed with the replicas played by hand
   * (last writer wins, as a StorageActor does): X stamps x@v1 on a coordinator with a slow clock, Z
   * stamps z@vZ > v1; c stores x@v1 and a read through c returns x (repairing a); Z completes on a
   * and c, and a read returns z; X's first round is refused by a and b. X must not write x again
   * under a second version, so a read after it still returns z: reads x, z, z, never x, z, x.
   */
  @Test
  void concurrentOneRoundWritesNeverReadXThenZThenXAgain() {
    Versioned[] held = new Versioned[3];
    List<TestProbe<StorageActor.Command>> probes = List.of(a, b, c);

    TestProbe<Result> xClient = testKit.createTestProbe(Result.class);
    ActorRef<ReplicaCoordinator.Command> x =
        testKit.spawn(
            ReplicaCoordinator.create(
                write("x"),
                KEY,
                replicas,
                ONE_ROUND,
                new HybridClock(() -> 1_000L),
                "nx",
                TIMEOUT,
                METRICS));
    x.tell(new Run(xClient.getRef()));
    Put[] xPuts = {expectPut(a), expectPut(b), expectPut(c)};

    TestProbe<Result> zClient = testKit.createTestProbe(Result.class);
    testKit
        .spawn(
            ReplicaCoordinator.create(
                write("z"),
                KEY,
                replicas,
                ONE_ROUND,
                new HybridClock(() -> 2_000L),
                "nz",
                TIMEOUT,
                METRICS))
        .tell(new Run(zClient.getRef()));
    Put[] zPuts = {expectPut(a), expectPut(b), expectPut(c)};
    assertTrue(zPuts[0].value().version().isNewerThan(xPuts[0].value().version()));

    serve(held, 2, xPuts[2]); // c stores x@v1
    assertEquals("x", readThrough(held, probes, 2, 0)); // a read of c and a returns x, repairs a
    serve(held, 0, zPuts[0]);
    serve(held, 2, zPuts[2]);
    assertInstanceOf(Written.class, zClient.receiveMessage());
    assertEquals("z", readThrough(held, probes, 0, 1));
    serve(held, 1, zPuts[1]);
    serve(held, 0, xPuts[0]); // refused: a holds z
    serve(held, 1, xPuts[1]); // refused: b holds z

    Unavailable unavailable = assertInstanceOf(Unavailable.class, xClient.receiveMessage());
    assertTrue(unavailable.outcomeUnknown());
    for (TestProbe<StorageActor.Command> p : probes) {
      p.expectNoMessage(QUIET); // x is never sent again under a new version
    }
    assertEquals("z", readThrough(held, probes, 1, 2));
    assertEquals("z", readThrough(held, probes, 0, 2));
  }

  /** A quorum read answered by replicas {@code first} and {@code second}; returns what it read. */
  private String readThrough(
      Versioned[] held, List<TestProbe<StorageActor.Command>> probes, int first, int second) {
    TestProbe<Result> reader = testKit.createTestProbe(Result.class);
    testKit
        .spawn(
            ReplicaCoordinator.create(
                new Operation.Read(),
                KEY,
                replicas,
                QUORUM,
                new HybridClock(() -> 1_500L),
                "nr",
                TIMEOUT,
                METRICS))
        .tell(new Run(reader.getRef()));
    Get[] gets = new Get[3];
    for (int i = 0; i < 3; i++) {
      gets[i] = expectGet(probes.get(i));
    }
    answer(gets[first], held[first]);
    answer(gets[second], held[second]);
    Versioned newest =
        held[first] == null || (held[second] != null && held[second].supersedes(held[first]))
            ? held[second]
            : held[first];
    int stale = newest == held[first] ? second : first;
    if (held[stale] == null || !held[stale].equals(newest)) {
      serve(held, stale, expectPut(probes.get(stale))); // blocking read repair
    }
    Result result = reader.receiveMessage();
    int other = 3 - first - second;
    answer(gets[other], held[other]); // the slow replica answers late ...
    if (held[other] == null || newest.version().isNewerThan(held[other].version())) {
      serve(held, other, expectPut(probes.get(other))); // ... and is repaired late
    }
    Found found = assertInstanceOf(Found.class, result);
    return new String(found.value().value(), StandardCharsets.UTF_8);
  }

  /** Applies a put to replica {@code i} the way storage does (last writer wins) and answers it. */
  private static void serve(Versioned[] held, int i, Put put) {
    boolean applied = put.value().supersedes(held[i]);
    if (applied) {
      held[i] = put.value();
    }
    put.replyTo().tell(new WriteResult(KEY, held[i], applied, put.tag()));
  }

  private static double counter(Metrics metrics, String name) {
    return metrics.registry().get(name).counter().count();
  }

  @Test
  void aWriteWhoseClockReservationIsExhaustedWaitsForTheKeeperBeforeStamping() {
    HybridClock reserving =
        HybridClock.reserving(() -> 1_000L, Duration.ofSeconds(4)); // nothing reserved yet
    TestProbe<ClockKeeper.Command> keeper = testKit.createTestProbe(ClockKeeper.Command.class);
    testKit
        .spawn(
            ReplicaCoordinator.create(
                write("v"),
                KEY,
                ONE_ROUND,
                ReplicaCoordinator.Node.fixed(
                    replicas, reserving, keeper.getRef(), "local", TIMEOUT, METRICS)))
        .tell(new Run(client.getRef()));
    ClockKeeper.Reserve reserve = keeper.expectMessageClass(ClockKeeper.Reserve.class);
    a.expectNoMessage(QUIET); // nothing is sent before there is a version

    reserving.reserved(reserving.nextReservation());
    reserve.replyTo().tell(ClockKeeper.Reserved.INSTANCE);
    Put put = ackPut(a);
    ackPut(b);
    expectPut(c);
    assertEquals(put.value().version(), client.expectMessageClass(Written.class).version());
    assertTrue(put.value().version().timestamp() <= reserving.reservation());
  }

  @Test
  void aWriteThatGetsNoReservationBeforeTheDeadlineWasNotWritten() {
    HybridClock reserving = HybridClock.reserving(() -> 1_000L, Duration.ofSeconds(4));
    TestProbe<ClockKeeper.Command> keeper = testKit.createTestProbe(ClockKeeper.Command.class);
    testKit
        .spawn(
            ReplicaCoordinator.create(
                write("v"),
                KEY,
                ONE_ROUND,
                ReplicaCoordinator.Node.fixed(
                    replicas, reserving, keeper.getRef(), "local", TIMEOUT, METRICS)))
        .tell(new Run(client.getRef()));
    keeper.expectMessageClass(ClockKeeper.Reserve.class);
    manualTime.timePasses(TIMEOUT);
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertFalse(unavailable.outcomeUnknown(), "no replica was sent anything");
    a.expectNoMessage(Duration.ZERO);
  }

  @Test
  void aOneRoundWriteWithOneRefusalStillCompletesOnTheOtherTwo() {
    // a concurrent write, not yet acknowledged anywhere else, is ordered after this one
    run(write("v"), ONE_ROUND);
    refuse(expectPut(a), value("concurrent", 5_000_000L << 16, "other"));
    ackPut(b);
    ackPut(c);
    client.expectMessageClass(Written.class);
  }

  @Test
  void aOneRoundWriteThatMissesWWithoutRefusalsIsOutcomeUnknown() {
    run(write("v"), ONE_ROUND);
    ackPut(a);
    fail(expectPut(b), "disk full");
    Put toC = expectPut(c);
    toC.replyTo().tell(new StorageActor.PendingReplica(KEY, toC.tag()));
    Unavailable unavailable = client.expectMessageClass(Unavailable.class);
    assertTrue(unavailable.outcomeUnknown());
    assertEquals(List.of("a"), unavailable.answered());
  }

  @Test
  void oneRoundIsNotUsedWhenWIsNoMajority() {
    // W=2 of 4 replicas: two write quorums need not meet, so the version is read first
    TestProbe<StorageActor.Command> d = testKit.createTestProbe(StorageActor.Command.class);
    List<Replica> four =
        List.of(replicas.get(0), replicas.get(1), replicas.get(2), new Replica("d", d.getRef()));
    run(write("v"), ONE_ROUND, four);
    expectGet(a);
    expectGet(d);
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
    assertTrue(
        written.version().isNewerThan(future),
        "new version " + written.version() + " must beat the completed write " + future);
    assertTrue(
        written.version().timestamp() > farFuture, "beats it on time, not only on writer name");
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
    assertTrue(
        unavailable.outcomeUnknown(), "the value reached replicas and may surface through repair");
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
    testKit
        .spawn(
            ReplicaCoordinator.create(
                new Operation.Read(), KEY, replicas, QUORUM, clock, "local", TIMEOUT, metrics))
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
    testKit
        .spawn(
            ReplicaCoordinator.create(
                write("v"), KEY, replicas, QUORUM, clock, "local", TIMEOUT, metrics))
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
