package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import akka.actor.DeadLetter;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.eventstream.EventStream;
import akka.actor.typed.javadsl.Behaviors;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StorageActor.ReadResult;
import dhtnode.storage.StorageActor.Reply;
import dhtnode.storage.StorageActor.WriteResult;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The router alone: replies in by request id, out to whoever is registered under it. */
class ReplyRouterTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  private static final Duration QUIET = Duration.ofMillis(200);
  private static final Versioned VALUE =
      Versioned.of("v".getBytes(StandardCharsets.UTF_8), "text/plain", new Version(1, "w"));

  private PendingRequests pending;
  private ActorRef<Reply> router;
  private TestProbe<DeadLetter> deadLetters;

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void router() {
    pending = new PendingRequests();
    router = testKit.spawn(ReplyRouter.create(pending));
    deadLetters = testKit.createTestProbe(DeadLetter.class);
    testKit
        .system()
        .eventStream()
        .tell(new EventStream.Subscribe<>(DeadLetter.class, deadLetters.getRef()));
  }

  @Test
  void aReplyIsHandedToTheCoordinatorRegisteredUnderItsRequestId() {
    TestProbe<Reply> first = testKit.createTestProbe(Reply.class);
    TestProbe<Reply> second = testKit.createTestProbe(Reply.class);
    long one = pending.add(first.getRef());
    long two = pending.add(second.getRef());

    ReadResult toSecond = new ReadResult("k", VALUE, 5, two);
    WriteResult toFirst = new WriteResult("k", VALUE, true, 6, one);
    router.tell(toSecond);
    router.tell(toFirst);
    router.tell(new StorageActor.WrongEpoch("k", 3, 7, one));

    assertEquals(toSecond, second.receiveMessage());
    assertEquals(toFirst, first.receiveMessage(), "the same reply, tag and all");
    assertEquals(new StorageActor.WrongEpoch("k", 3, 7, one), first.receiveMessage());
    second.expectNoMessage(QUIET);
  }

  @Test
  void repliesNobodyWaitsForAreDroppedWithoutADeadLetter() {
    TestProbe<Reply> registered = testKit.createTestProbe(Reply.class);
    long id = pending.add(registered.getRef());

    router.tell(new ReadResult("k", VALUE, 5, id + 1)); // an id never handed out
    router.tell(new ReadResult("k", VALUE, 5, PendingRequests.NONE)); // no id at all
    router.tell(new StorageActor.Stats(1, 2)); // a reply that carries none

    registered.expectNoMessage(QUIET);
    deadLetters.expectNoMessage(Duration.ZERO);
    assertDeadLettersAreWatched();
  }

  @Test
  void aReplyAfterItsCoordinatorRemovedItselfReachesNoOne() {
    TestProbe<Reply> finished = testKit.createTestProbe(Reply.class);
    long id = pending.add(finished.getRef());
    pending.remove(id);

    router.tell(new ReadResult("k", VALUE, 5, id));

    finished.expectNoMessage(QUIET);
    deadLetters.expectNoMessage(Duration.ZERO);
    assertEquals(0, pending.size());
    assertDeadLettersAreWatched();
  }

  @Test
  void idsAreNeverReusedAndNeverNone() {
    TestProbe<Reply> probe = testKit.createTestProbe(Reply.class);
    long first = pending.add(probe.getRef());
    pending.remove(first);
    long second = pending.add(probe.getRef());
    assertEquals(first + 1, second);
    assertEquals(1, pending.size());
    assertNotEquals(PendingRequests.NONE, first);
  }

  /** A message to a stopped actor does show up on the probe: its silence above means something. */
  private void assertDeadLettersAreWatched() {
    ActorRef<Reply> gone = testKit.spawn(Behaviors.empty());
    testKit.stop(gone);
    gone.tell(new StorageActor.Stats(1, 2));
    deadLetters.expectMessageClass(DeadLetter.class);
  }
}
