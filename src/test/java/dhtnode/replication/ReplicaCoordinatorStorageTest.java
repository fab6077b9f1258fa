package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dhtnode.metrics.Metrics;
import dhtnode.replication.ReplicaCoordinator.Found;
import dhtnode.replication.ReplicaCoordinator.NotFound;
import dhtnode.replication.ReplicaCoordinator.Operation;
import dhtnode.replication.ReplicaCoordinator.Result;
import dhtnode.replication.ReplicaCoordinator.Run;
import dhtnode.replication.ReplicaCoordinator.Written;
import dhtnode.storage.HybridClock;
import dhtnode.storage.InMemoryEngine;
import dhtnode.storage.StorageActor;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The coordinator against three real StorageActors over in-memory engines, in real time. */
class ReplicaCoordinatorStorageTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  private static final String KEY = "user/42";
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static final Quorum QUORUM = new Quorum(2, 2);

  private List<Replica> replicas;

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void storages() {
    replicas = List.of(storage("s1"), storage("s2"), storage("s3"));
  }

  private static Replica storage(String node) {
    ActorRef<StorageActor.Command> ref =
        testKit.spawn(
            StorageActor.create(InMemoryEngine::new),
            DispatcherSelector.fromConfig(StorageActor.DISPATCHER));
    return new Replica(node, ref);
  }

  /** A replica whose messages are lost: it never answers. */
  private static Replica unreachable(String node) {
    return new Replica(node, testKit.createTestProbe(StorageActor.Command.class).getRef());
  }

  private static ActorRef<ReplicaCoordinator.Command> start(
      Operation op, List<Replica> to, HybridClock clock, String node, TestProbe<Result> client) {
    ActorRef<ReplicaCoordinator.Command> coordinator =
        testKit.spawn(
            ReplicaCoordinator.create(
                op, KEY, to, QUORUM, clock, node, TIMEOUT, new Metrics(node)));
    coordinator.tell(new Run(client.getRef()));
    return coordinator;
  }

  private static Result request(Operation op, List<Replica> to, HybridClock clock, String node) {
    TestProbe<Result> client = testKit.createTestProbe(Result.class);
    start(op, to, clock, node, client);
    return client.receiveMessage(TIMEOUT.plusSeconds(1));
  }

  private static Operation write(String text) {
    return new Operation.Write(text.getBytes(StandardCharsets.UTF_8), "text/plain");
  }

  private static Versioned held(Replica replica) {
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe(StorageActor.Reply.class);
    replica.storage().tell(new StorageActor.Get(KEY, probe.getRef()));
    return probe.expectMessageClass(StorageActor.ReadResult.class).value();
  }

  private static String text(Versioned v) {
    return new String(v.value(), StandardCharsets.UTF_8);
  }

  @Test
  void writeThenReadReturnsTheWrittenValueAndEveryReplicaHoldsIt() {
    HybridClock clock = new HybridClock();
    Written written = (Written) request(write("hello"), replicas, clock, "n1");
    Found found = (Found) request(new Operation.Read(), replicas, clock, "n1");

    assertEquals(written.version(), found.value().version());
    assertEquals("hello", text(found.value()));
    assertEquals("text/plain", found.value().contentType());
    // The coordinator sent the write to all three before it answered; each mailbox has it.
    for (Replica r : replicas) {
      assertEquals(written.version(), held(r).version());
    }
  }

  @Test
  void deleteThenReadIsNotFoundWithTheDeleteVersion() {
    HybridClock clock = new HybridClock();
    request(write("doomed"), replicas, clock, "n1");
    Written deleted = (Written) request(new Operation.Delete(), replicas, clock, "n1");
    NotFound notFound = (NotFound) request(new Operation.Read(), replicas, clock, "n1");
    assertEquals(deleted.version(), notFound.tombstone());
  }

  @Test
  void aLaterWriteFromANodeWithASlowClockStillWins() {
    // n1's wall clock is an hour ahead of n2's. n2 writes after n1's write completed: the version
    // read makes n2 stamp above n1, so a read returns n2's value, not the "newer-looking" n1 one.
    long now = System.currentTimeMillis();
    HybridClock fast = new HybridClock(() -> now + 3_600_000L);
    HybridClock slow = new HybridClock(() -> now);
    Written first = (Written) request(write("first"), replicas, fast, "n1");
    Written second = (Written) request(write("second"), replicas, slow, "n2");

    assertTrue(
        second.version().isNewerThan(first.version()), second.version() + " vs " + first.version());
    Found found = (Found) request(new Operation.Read(), replicas, slow, "n2");
    assertEquals("second", text(found.value()));
  }

  @Test
  void aReplicaThatMissedAWriteIsRepairedByAQuorumRead() {
    HybridClock clock = new HybridClock();
    request(write("v1"), replicas, clock, "n1");
    // s3 is unreachable for the second write: it still holds v1 afterwards.
    List<Replica> withoutS3 = List.of(replicas.get(0), replicas.get(1), unreachable("s3"));
    Written v2 = (Written) request(write("v2"), withoutS3, clock, "n1");
    assertEquals("v1", text(held(replicas.get(2))));

    Found found = (Found) request(new Operation.Read(), replicas, clock, "n1");
    assertEquals(v2.version(), found.value().version());
    // Blocking repair if s3 was among the first two answers, asynchronous if it was late.
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe(StorageActor.Reply.class);
    probe.awaitAssert(
        Duration.ofSeconds(3),
        () -> {
          assertEquals(v2.version(), held(replicas.get(2)).version());
          return null;
        });
  }

  @Test
  void concurrentWritesConvergeToOneValueOnAllReplicasAfterRepair() {
    // Two nodes write the same key at once; n2's write never reaches s3.
    HybridClock clock1 = new HybridClock();
    HybridClock clock2 = new HybridClock();
    List<Replica> seenByN2 = List.of(replicas.get(0), replicas.get(1), unreachable("s3"));
    TestProbe<Result> client1 = testKit.createTestProbe(Result.class);
    TestProbe<Result> client2 = testKit.createTestProbe(Result.class);
    start(write("from-n1"), replicas, clock1, "n1", client1);
    start(write("from-n2"), seenByN2, clock2, "n2", client2);
    Written w1 = client1.expectMessageClass(Written.class, TIMEOUT.plusSeconds(1));
    Written w2 = client2.expectMessageClass(Written.class, TIMEOUT.plusSeconds(1));
    Version winner = w1.version().isNewerThan(w2.version()) ? w1.version() : w2.version();
    String winningText = winner.equals(w1.version()) ? "from-n1" : "from-n2";

    Found found = (Found) request(new Operation.Read(), replicas, clock1, "n1");
    assertEquals(winner, found.value().version(), "a read returns the last writer's value");
    assertEquals(winningText, text(found.value()));

    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe(StorageActor.Reply.class);
    probe.awaitAssert(
        Duration.ofSeconds(3),
        () -> {
          for (Replica r : replicas) {
            Versioned v = held(r);
            assertNotNull(v, r.node() + " holds nothing");
            assertEquals(winner, v.version(), r.node() + " has not converged");
            assertArrayEquals(winningText.getBytes(StandardCharsets.UTF_8), v.value());
          }
          return null;
        });
  }

  /**
   * Storage on "other nodes" (marked remote) answers this node's reply router, which hands every
   * reply to its coordinator: the whole path, with real storage actors, in one JVM.
   */
  @Test
  void repliesFromRemoteReplicasReachTheirCoordinatorThroughTheRouter() {
    List<Replica> remote =
        replicas.stream().map(r -> new Replica(r.node(), r.storage(), true)).toList();
    PendingRequests pending = new PendingRequests();
    ReplicaCoordinator.Node node =
        new ReplicaCoordinator.Node(
            ReplicaLocator.fixed(remote),
            new HybridClock(),
            null,
            "n1",
            TIMEOUT,
            ReplicaCoordinator.EpochListener.IGNORE,
            Duration.ofMillis(20),
            new Metrics("n1"),
            new ReplicaCoordinator.RemoteReplies(
                testKit.spawn(ReplyRouter.create(pending)), pending),
            null);
    TestProbe<Result> client = testKit.createTestProbe(Result.class);

    ActorRef<ReplicaCoordinator.Command> writer =
        testKit.spawn(ReplicaCoordinator.create(write("routed"), KEY, QUORUM, node));
    writer.tell(new Run(client.getRef()));
    Written written = client.expectMessageClass(Written.class, TIMEOUT.plusSeconds(1));
    ActorRef<ReplicaCoordinator.Command> reader =
        testKit.spawn(ReplicaCoordinator.create(new Operation.Read(), KEY, QUORUM, node));
    reader.tell(new Run(client.getRef()));
    Found found = client.expectMessageClass(Found.class, TIMEOUT.plusSeconds(1));

    assertEquals(written.version(), found.value().version());
    assertEquals("routed", text(found.value()));
    client.expectTerminated(writer, TIMEOUT); // each stops once every replica has answered
    client.expectTerminated(reader, TIMEOUT);
    assertEquals(0, pending.size());
  }
}
