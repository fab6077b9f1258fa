package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dhtnode.metrics.Metrics;
import dhtnode.replication.ReplicaCoordinator.Found;
import dhtnode.replication.ReplicaCoordinator.Operation;
import dhtnode.replication.ReplicaCoordinator.Result;
import dhtnode.replication.ReplicaCoordinator.Run;
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

/**
 * Reads with {@code read-speculation} on: R replicas asked first (this node's own first), the rest
 * of the read set on a failure or after the delay, and the newest value still left on W replicas.
 * Probes play the replicas; {@code a} and {@code b} count as remote, {@code c} as this node's own.
 */
class ReplicaCoordinatorSpeculationTest {
  static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final String KEY = "k";
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration SPECULATION = Duration.ofMillis(20);
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final Quorum QUORUM = new Quorum(2, 2);

  private TestProbe<StorageActor.Command> a;
  private TestProbe<StorageActor.Command> b;
  private TestProbe<StorageActor.Command> c;
  private TestProbe<Result> client;
  private Metrics metrics;

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void replicas() {
    a = testKit.createTestProbe(StorageActor.Command.class);
    b = testKit.createTestProbe(StorageActor.Command.class);
    c = testKit.createTestProbe(StorageActor.Command.class);
    client = testKit.createTestProbe(Result.class);
    metrics = new Metrics("local");
  }

  private ActorRef<ReplicaCoordinator.Command> read() {
    List<Replica> replicas =
        List.of(
            new Replica("a", a.getRef(), true),
            new Replica("b", b.getRef(), true),
            new Replica("c", c.getRef(), false));
    ReplicaCoordinator.Node node =
        new ReplicaCoordinator.Node(
            ReplicaLocator.fixed(replicas),
            new HybridClock(() -> 1_000L),
            null,
            "local",
            TIMEOUT,
            ReplicaCoordinator.EpochListener.IGNORE,
            Duration.ofMillis(20),
            metrics,
            null,
            SPECULATION);
    ActorRef<ReplicaCoordinator.Command> coordinator =
        testKit.spawn(ReplicaCoordinator.create(new Operation.Read(), KEY, QUORUM, node));
    coordinator.tell(new Run(client.getRef()));
    return coordinator;
  }

  private static Versioned value(String text, long timestamp) {
    return Versioned.of(
        text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(timestamp, "w"));
  }

  private static Get expectGet(TestProbe<StorageActor.Command> replica) {
    Get get = replica.expectMessageClass(Get.class);
    assertEquals(KEY, get.key());
    return get;
  }

  private static void answer(TestProbe<StorageActor.Command> replica, Versioned holds) {
    Get get = expectGet(replica);
    get.replyTo().tell(new ReadResult(KEY, holds, get.tag()));
  }

  private static Put expectPut(TestProbe<StorageActor.Command> replica) {
    Put put = replica.expectMessageClass(Put.class);
    assertEquals(KEY, put.key());
    return put;
  }

  private double speculations() {
    return metrics.registry().get("dht.read.speculations").counter().count();
  }

  @Test
  void aQuorumReadAsksItsOwnReplicaAndOneOtherAndNoMoreWhenBothAnswer() {
    Versioned v = value("v", 500);
    ActorRef<ReplicaCoordinator.Command> coordinator = read();
    answer(c, v); // this node's own replica first, though it is last in preference order
    answer(a, v); // then the first remote one in preference order
    assertEquals(v, client.expectMessageClass(Found.class).value());
    client.expectTerminated(coordinator, Duration.ofSeconds(3));
    b.expectNoMessage(QUIET);
    assertEquals(0.0, speculations());
  }

  @Test
  void aReplicaThatFailsIsReplacedAtOnceByTheOneNotAsked() {
    Versioned v = value("v", 500);
    read();
    answer(c, v);
    Get toA = expectGet(a);
    b.expectNoMessage(QUIET);
    toA.replyTo().tell(new StorageFailed(KEY, "disk", toA.tag()));
    answer(b, v);
    assertEquals(v, client.expectMessageClass(Found.class).value());
    assertEquals(0.0, speculations(), "no delay was waited for");
  }

  @Test
  void aReplicaSilentForTheSpeculationDelayIsJoinedByTheOneNotAsked() {
    Versioned v = value("v", 500);
    read();
    answer(c, v);
    expectGet(a); // never answers
    manualTime.timePasses(SPECULATION.minusMillis(1));
    b.expectNoMessage(QUIET);
    manualTime.timePasses(Duration.ofMillis(1));
    answer(b, v);
    assertEquals(v, client.expectMessageClass(Found.class).value());
    assertEquals(1.0, speculations());
  }

  @Test
  void aStaleReplicaAmongTheAskedIsRepairedAndTheOneNotAskedIsLeftAlone() {
    Versioned newer = value("new", 600);
    read();
    answer(c, newer);
    answer(a, value("old", 500));
    Put repair = expectPut(a);
    assertEquals(newer, repair.value());
    repair.replyTo().tell(new WriteResult(KEY, newer, true, repair.tag()));
    assertEquals(newer, client.expectMessageClass(Found.class).value());
    b.expectNoMessage(QUIET);
  }

  @Test
  void aRepairTheAskedReplicasCannotCompleteGoesToTheOneNotAsked() {
    Versioned newer = value("new", 600);
    read();
    answer(c, newer);
    answer(a, value("old", 500));
    Put repair = expectPut(a);
    b.expectNoMessage(QUIET);
    repair.replyTo().tell(new StorageFailed(KEY, "disk", repair.tag()));
    // W = 2 now needs b: it gets the newest value as a repair, without being read
    Put toB = expectPut(b);
    assertEquals(newer, toB.value());
    toB.replyTo().tell(new WriteResult(KEY, newer, true, toB.tag()));
    assertEquals(newer, client.expectMessageClass(Found.class).value());
  }
}
