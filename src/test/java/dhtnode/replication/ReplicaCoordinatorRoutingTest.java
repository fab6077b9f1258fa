package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.DeadLetter;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.eventstream.EventStream;
import akka.actor.typed.javadsl.Behaviors;
import dhtnode.metrics.Metrics;
import dhtnode.replication.ReplicaCoordinator.Found;
import dhtnode.replication.ReplicaCoordinator.Operation;
import dhtnode.replication.ReplicaCoordinator.RemoteReplies;
import dhtnode.replication.ReplicaCoordinator.Result;
import dhtnode.replication.ReplicaCoordinator.Run;
import dhtnode.replication.ReplicaCoordinator.Unavailable;
import dhtnode.replication.ReplicaCoordinator.Written;
import dhtnode.storage.HybridClock;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StorageActor.Get;
import dhtnode.storage.StorageActor.Put;
import dhtnode.storage.StorageActor.ReadResult;
import dhtnode.storage.StorageActor.Reply;
import dhtnode.storage.StorageActor.WriteResult;
import dhtnode.storage.StorageActor.WrongEpoch;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator with a reply router: replica a is local, b and c are on other nodes (probes
 * marked remote), so b and c answer the router and a the coordinator itself. Whichever way a
 * coordinator stops, its registration goes with it. Time is manual.
 */
class ReplicaCoordinatorRoutingTest {
  static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  static final ManualTime manualTime = ManualTime.get(testKit.system());

  private static final String KEY = "k";
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration RETRY = Duration.ofMillis(20);
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final Quorum QUORUM = new Quorum(2, 2, true);
  private static final Metrics METRICS = new Metrics("local");
  private static final Versioned VALUE =
      Versioned.of("v".getBytes(StandardCharsets.UTF_8), "text/plain", new Version(500, "w"));

  private TestProbe<StorageActor.Command> a;
  private TestProbe<StorageActor.Command> b;
  private TestProbe<StorageActor.Command> c;
  private Placement placement;
  private PendingRequests pending;
  private ActorRef<Reply> router;
  private TestProbe<Result> client;
  private TestProbe<DeadLetter> deadLetters;

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void replicas() {
    a = testKit.createTestProbe(StorageActor.Command.class);
    b = testKit.createTestProbe(StorageActor.Command.class);
    c = testKit.createTestProbe(StorageActor.Command.class);
    placement =
        Placement.stable(
            3,
            List.of(
                new Replica("a", a.getRef(), false),
                new Replica("b", b.getRef(), true),
                new Replica("c", c.getRef(), true)));
    pending = new PendingRequests();
    router = testKit.spawn(ReplyRouter.create(pending));
    client = testKit.createTestProbe(Result.class);
    deadLetters = testKit.createTestProbe(DeadLetter.class);
    testKit
        .system()
        .eventStream()
        .tell(new EventStream.Subscribe<>(DeadLetter.class, deadLetters.getRef()));
  }

  private ReplicaCoordinator.Node node(ReplicaLocator locator) {
    return new ReplicaCoordinator.Node(
        locator,
        new HybridClock(() -> 1_000L),
        null,
        "local",
        TIMEOUT,
        ReplicaCoordinator.EpochListener.IGNORE,
        RETRY,
        METRICS,
        new RemoteReplies(router, pending),
        null);
  }

  private ActorRef<ReplicaCoordinator.Command> run(Operation op) {
    return run(ReplicaCoordinator.create(op, KEY, QUORUM, node(key -> placement)));
  }

  private ActorRef<ReplicaCoordinator.Command> run(Behavior<ReplicaCoordinator.Command> behavior) {
    ActorRef<ReplicaCoordinator.Command> coordinator = testKit.spawn(behavior);
    coordinator.tell(new Run(client.getRef()));
    return coordinator;
  }

  private static Operation.Write write(String text) {
    return new Operation.Write(text.getBytes(StandardCharsets.UTF_8), "text/plain");
  }

  /** Answers the way a replica does, through whatever the request names, echoing tag and id. */
  private static void answer(Get get) {
    get.replyTo().tell(new ReadResult(KEY, VALUE, get.tag(), get.request()));
  }

  private static void ack(Put put) {
    put.replyTo().tell(new WriteResult(KEY, put.value(), true, put.tag(), put.request()));
  }

  private void awaitStopped(ActorRef<?> coordinator) {
    client.expectTerminated(coordinator, Duration.ofSeconds(3));
  }

  @Test
  void remoteReplicasAnswerTheRouterAndTheLocalOneTheCoordinatorsOwnAdapter() {
    ActorRef<ReplicaCoordinator.Command> coordinator = run(new Operation.Read());
    Get toA = a.expectMessageClass(Get.class);
    Get toB = b.expectMessageClass(Get.class);
    Get toC = c.expectMessageClass(Get.class);

    assertEquals(router, toB.replyTo(), "the same ref in every request to another node");
    assertEquals(router, toC.replyTo());
    assertNotEquals(router, toA.replyTo(), "the local replica needs no router");
    assertNotEquals(PendingRequests.NONE, toB.request());
    assertEquals(
        toB.request(), toC.request(), "one id per coordinator; the tags tell replicas apart");
    assertEquals(1, pending.size());
    assertEquals(
        toA.replyTo(), pending.recipient(toB.request()), "the router hands to the adapter");

    answer(toB); // through the router
    answer(toA); // straight to the coordinator
    assertEquals(new Found(VALUE), client.receiveMessage());
    answer(toC);
    awaitStopped(coordinator);
    assertEquals(0, pending.size(), "answered and stopped: nothing left registered");
  }

  @Test
  void aWriteSendsItsValuesThroughTheSameRoute() {
    ActorRef<ReplicaCoordinator.Command> coordinator = run(write("x"));
    Put toA = a.expectMessageClass(Put.class);
    Put toB = b.expectMessageClass(Put.class);
    Put toC = c.expectMessageClass(Put.class);
    assertEquals(router, toB.replyTo());
    assertNotEquals(router, toA.replyTo());
    ack(toC);
    ack(toB);
    assertInstanceOf(Written.class, client.receiveMessage());
    ack(toA);
    awaitStopped(coordinator);
    assertEquals(0, pending.size());
  }

  @Test
  void aCoordinatorOfLocalReplicasOnlyRegistersNothing() {
    placement = Placement.stable(3, List.of(new Replica("a", a.getRef(), false)));
    ActorRef<ReplicaCoordinator.Command> coordinator =
        run(
            ReplicaCoordinator.create(
                new Operation.Read(), KEY, new Quorum(1, 1), node(key -> placement)));
    Get toA = a.expectMessageClass(Get.class);
    assertEquals(PendingRequests.NONE, toA.request());
    assertEquals(0, pending.size());
    answer(toA);
    assertEquals(new Found(VALUE), client.receiveMessage());
    awaitStopped(coordinator);
  }

  @Test
  void theRegistrationEndsAtTheDeadlineAndALateReplyReachesNoOne() {
    ActorRef<ReplicaCoordinator.Command> coordinator = run(new Operation.Read());
    a.expectMessageClass(Get.class);
    Get toB = b.expectMessageClass(Get.class);
    c.expectMessageClass(Get.class);
    assertEquals(1, pending.size());

    manualTime.timePasses(TIMEOUT);
    assertInstanceOf(Unavailable.class, client.receiveMessage());
    awaitStopped(coordinator);
    assertEquals(0, pending.size());

    answer(toB);
    client.expectNoMessage(QUIET);
    deadLetters.expectNoMessage(Duration.ZERO);
  }

  @Test
  void theRegistrationEndsWhenTheCoordinatorIsStoppedFromOutside() {
    ActorRef<ReplicaCoordinator.Command> coordinator = run(new Operation.Read());
    a.expectMessageClass(Get.class);
    Get toB = b.expectMessageClass(Get.class);
    c.expectMessageClass(Get.class);
    assertEquals(1, pending.size());

    testKit.stop(coordinator);
    assertEquals(0, pending.size());
    answer(toB);
    client.expectNoMessage(QUIET);
    deadLetters.expectNoMessage(Duration.ZERO);
  }

  @Test
  void theRegistrationEndsWhenTheCoordinatorFails() {
    AtomicInteger lookups = new AtomicInteger();
    ReplicaLocator failsOnRetry =
        key -> {
          if (lookups.incrementAndGet() > 1) {
            throw new IllegalStateException("a bug in the ring"); // inside the actor: it fails
          }
          return placement;
        };
    ActorRef<ReplicaCoordinator.Command> coordinator =
        run(
            Behaviors.supervise(
                    ReplicaCoordinator.create(
                        new Operation.Read(), KEY, QUORUM, node(failsOnRetry)))
                .onFailure(SupervisorStrategy.stop().withLoggingEnabled(false)));
    for (TestProbe<StorageActor.Command> replica : List.of(a, b, c)) {
      Get get = replica.expectMessageClass(Get.class);
      get.replyTo().tell(new WrongEpoch(KEY, 4, get.tag(), get.request())); // fenced: retry
    }
    assertEquals(1, pending.size());

    manualTime.timePasses(RETRY); // the retry looks the key up again, and the lookup throws
    awaitStopped(coordinator);
    assertEquals(2, lookups.get());
    assertEquals(0, pending.size());
    client.expectNoMessage(QUIET);
  }

  @Test
  void noRegistrationOutlivesItsCoordinatorAcrossManyRequests() {
    List<ActorRef<ReplicaCoordinator.Command>> coordinators = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    int answered = 0;
    int timedOut = 0;
    int peak = 0;
    for (int i = 0; i < 200; i++) {
      boolean read = i % 2 == 0;
      ActorRef<ReplicaCoordinator.Command> coordinator =
          run(read ? new Operation.Read() : write("x"));
      coordinators.add(coordinator);
      StorageActor.Command toA = a.receiveMessage();
      StorageActor.Command toB = b.receiveMessage();
      StorageActor.Command toC = c.receiveMessage();
      long id = read ? ((Get) toB).request() : ((Put) toB).request();
      ids.add(id);
      peak = Math.max(peak, pending.size());
      switch (i % 5) {
        case 0, 1 -> { // answered by all three
          for (StorageActor.Command m : List.of(toA, toB, toC)) {
            reply(m);
          }
          answered++;
        }
        case 2 -> { // quorum met, the third replica silent: the coordinator lingers to the deadline
          reply(toB);
          reply(toC);
          answered++;
        }
        case 3 -> timedOut++; // silent replicas: 503 at the deadline
        default -> testKit.stop(coordinator); // stopped from outside
      }
    }
    assertTrue(peak >= 80, "coordinators waiting at once: " + peak); // those that linger
    List<Result> results = client.receiveSeveralMessages(answered);
    assertTrue(results.stream().noneMatch(Unavailable.class::isInstance), results.toString());

    manualTime.timePasses(TIMEOUT);
    assertEquals(
        timedOut,
        client.receiveSeveralMessages(timedOut).stream()
            .filter(Unavailable.class::isInstance)
            .count());
    for (ActorRef<ReplicaCoordinator.Command> coordinator : coordinators) {
      awaitStopped(coordinator);
    }
    assertEquals(0, pending.size(), "every registration ended with its coordinator");

    for (long id : ids) { // late replies to every request: dropped by the router, quietly
      router.tell(new ReadResult(KEY, VALUE, 0, id));
    }
    client.expectNoMessage(QUIET);
    deadLetters.expectNoMessage(Duration.ZERO);
  }

  private static void reply(StorageActor.Command request) {
    if (request instanceof Get get) {
      answer(get);
    } else {
      ack((Put) request);
    }
  }
}
