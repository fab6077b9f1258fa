package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dhtnode.keyspace.TokenRange;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageActorTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Versioned value(String text, long ts) {
    return Versioned.of(
        text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, "node1"));
  }

  private ActorRef<StorageActor.Command> spawnInMemory() {
    return testKit.spawn(StorageActor.create(InMemoryEngine::new));
  }

  @Test
  void putThenGetAnswersWithTheStoredValue() {
    ActorRef<StorageActor.Command> storage = spawnInMemory();
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), probe.getRef()));
    StorageActor.WriteResult written = probe.expectMessageClass(StorageActor.WriteResult.class);
    assertTrue(written.applied());
    storage.tell(new StorageActor.Get("k", probe.getRef()));
    assertEquals(new StorageActor.ReadResult("k", value("v", 1)), probe.receiveMessage());
  }

  @Test
  void anOlderPutIsNotAppliedAndTheReplyCarriesTheNewerValue() {
    ActorRef<StorageActor.Command> storage = spawnInMemory();
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("new", 5), probe.getRef()));
    probe.receiveMessage();
    storage.tell(new StorageActor.Put("k", value("old", 4), probe.getRef()));
    StorageActor.WriteResult result = probe.expectMessageClass(StorageActor.WriteResult.class);
    assertFalse(result.applied());
    assertEquals(value("new", 5), result.stored());
  }

  @Test
  void getOfAMissingKeyAnswersWithNoValue() {
    ActorRef<StorageActor.Command> storage = spawnInMemory();
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Get("missing", probe.getRef()));
    assertNull(probe.expectMessageClass(StorageActor.ReadResult.class).value());
  }

  @Test
  void scanAnswersInBatchesAndSaysWhenTheRangeIsComplete() {
    ActorRef<StorageActor.Command> storage = spawnInMemory();
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < 5; i++) {
      storage.tell(new StorageActor.Put("k" + i, value("v" + i, 1), probe.getRef()));
      probe.receiveMessage();
    }
    storage.tell(new StorageActor.Scan(TokenRange.full(), null, 3, probe.getRef()));
    StorageActor.ScanResult first = probe.expectMessageClass(StorageActor.ScanResult.class);
    assertEquals(3, first.entries().size());
    assertFalse(first.complete());
    String after = first.entries().get(2).key();
    storage.tell(new StorageActor.Scan(TokenRange.full(), after, 3, probe.getRef()));
    StorageActor.ScanResult rest = probe.expectMessageClass(StorageActor.ScanResult.class);
    assertEquals(2, rest.entries().size());
    assertTrue(rest.complete());
  }

  /** A ring state a test sets by hand: the epoch, reads pending, and whether tokens are held. */
  private static final class TestState implements ReplicaState {
    volatile long epoch;
    volatile boolean pending;
    volatile boolean held = true;
    final java.util.List<Long> behind = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public void behind(long epoch) {
      behind.add(epoch);
    }

    @Override
    public long epoch() {
      return epoch;
    }

    @Override
    public boolean readPending(long token) {
      return pending;
    }

    @Override
    public boolean holds(long token) {
      return held;
    }
  }

  private static ActorRef<StorageActor.Command> spawn(ReplicaState state) {
    return testKit.spawn(StorageActor.create(InMemoryEngine::new, state, t -> {}));
  }

  @Test
  void aRequestFromAnotherEpochIsFencedAndNeitherReadsNorStores() {
    TestState state = new TestState();
    state.epoch = 7;
    ActorRef<StorageActor.Command> storage = spawn(state);
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), 7, 1, probe.getRef()));
    probe.expectMessageClass(StorageActor.WriteResult.class);
    storage.tell(new StorageActor.Put("k", value("older epoch", 2), 6, 2, probe.getRef()));
    assertEquals(new StorageActor.WrongEpoch("k", 7, 2), probe.receiveMessage());
    storage.tell(new StorageActor.Put("k", value("newer epoch", 3), 8, 3, probe.getRef()));
    assertEquals(new StorageActor.WrongEpoch("k", 7, 3), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", 6, 4, probe.getRef()));
    assertEquals(new StorageActor.WrongEpoch("k", 7, 4), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", 7, 5, probe.getRef()));
    assertEquals(
        new StorageActor.ReadResult("k", value("v", 1), 5),
        probe.receiveMessage(),
        "neither fenced write was stored");
    assertEquals(List.of(8L), state.behind, "only a later epoch is this node's to catch up on");
    state.epoch = 8; // the node moved on: what was current is now fenced
    storage.tell(new StorageActor.Get("k", 7, 6, probe.getRef()));
    assertEquals(new StorageActor.WrongEpoch("k", 8, 6), probe.receiveMessage());
  }

  @Test
  void aReplicaThatLostItsDataAppliesWritesButAnswersNoReadsUntilRefilled() {
    TestState state = new TestState();
    state.pending = true;
    ActorRef<StorageActor.Command> storage = spawn(state);
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), probe.getRef()));
    assertTrue(
        probe.expectMessageClass(StorageActor.WriteResult.class).applied(), "a write counts");
    storage.tell(new StorageActor.Get("k", probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k"), probe.receiveMessage());
    storage.tell(new StorageActor.Apply("k2", value("w", 1), probe.getRef()));
    assertTrue(
        probe.expectMessageClass(StorageActor.WriteResult.class).applied(), "a refill applies");
    state.pending = false;
    storage.tell(new StorageActor.Get("k", probe.getRef()));
    assertEquals(
        value("v", 1),
        probe.expectMessageClass(StorageActor.ReadResult.class).value(),
        "the write made while refilling was kept");
  }

  @Test
  void aSweepDeletesInBatchesOnlyWhatTheNodeNoLongerHoldsWhenEachBatchRuns() {
    TestState state = new TestState();
    ActorRef<StorageActor.Command> storage = spawn(state);
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < 5; i++) {
      storage.tell(new StorageActor.Put("k" + i, value("v", 1), probe.getRef()));
      probe.expectMessageClass(StorageActor.WriteResult.class);
    }
    storage.tell(new StorageActor.Sweep(TokenRange.full(), null, 3, probe.getRef()));
    assertEquals(0, probe.expectMessageClass(StorageActor.Swept.class).deleted(), "held keys stay");
    state.held = false;
    storage.tell(new StorageActor.Apply("late", value("v", 2), probe.getRef()));
    assertEquals(
        new StorageActor.PendingReplica("late"),
        probe.receiveMessage(),
        "no fill outside held ranges");
    storage.tell(new StorageActor.Sweep(TokenRange.full(), null, 3, probe.getRef()));
    StorageActor.Swept first = probe.expectMessageClass(StorageActor.Swept.class);
    assertEquals(3, first.deleted());
    assertFalse(first.complete());
    storage.tell(new StorageActor.Sweep(TokenRange.full(), first.lastKey(), 3, probe.getRef()));
    StorageActor.Swept rest = probe.expectMessageClass(StorageActor.Swept.class);
    assertEquals(2, rest.deleted());
    assertTrue(rest.complete());
    storage.tell(new StorageActor.Scan(TokenRange.full(), null, 10, probe.getRef()));
    assertEquals(
        List.of(),
        probe.expectMessageClass(StorageActor.ScanResult.class).entries(),
        "nothing left, nothing late");
  }

  @Test
  void everyVersionAReplicaStoresMovesTheNodesClockPastIt() {
    dhtnode.storage.HybridClock clock = new dhtnode.storage.HybridClock(() -> 1_000L);
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(
            StorageActor.create(InMemoryEngine::new, ReplicaState.UNFENCED, clock::observe));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    long far = 5_000_000L << 16; // a writer whose clock is far ahead of ours
    storage.tell(new StorageActor.Put("k", value("v", far), probe.getRef()));
    probe.receiveMessage();
    assertTrue(clock.tryNow() > far, "a write this node coordinates next is versioned above it");
  }

  @Test
  void purgeAndStatsAnswer() {
    ActorRef<StorageActor.Command> storage = spawnInMemory();
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 7), probe.getRef()));
    probe.receiveMessage();
    storage.tell(new StorageActor.GetStats(probe.getRef()));
    assertEquals(1, probe.expectMessageClass(StorageActor.Stats.class).keys());
    storage.tell(new StorageActor.Purge("k", new Version(7, "node1"), probe.getRef()));
    assertEquals(new StorageActor.PurgeResult("k", true), probe.receiveMessage());
  }

  @Test
  void anEngineFailureIsAnsweredAndTheActorKeepsServing() {
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(FailingFirstPut::new));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), probe.getRef()));
    StorageActor.StorageFailed failed = probe.expectMessageClass(StorageActor.StorageFailed.class);
    assertEquals("k", failed.key());
    storage.tell(new StorageActor.Put("k", value("v", 1), probe.getRef()));
    assertTrue(probe.expectMessageClass(StorageActor.WriteResult.class).applied());
  }

  @Test
  void everyAnswerToAGetOrPutEchoesItsTag() {
    TestState state = new TestState();
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(FailingFirstPut::new, state, t -> {}));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), 0, 5, probe.getRef()));
    assertEquals(5, probe.expectMessageClass(StorageActor.StorageFailed.class).tag());
    storage.tell(new StorageActor.Put("k", value("v", 1), 0, 6, probe.getRef()));
    assertEquals(new StorageActor.WriteResult("k", value("v", 1), true, 6), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", 0, 7, probe.getRef()));
    assertEquals(new StorageActor.ReadResult("k", value("v", 1), 7), probe.receiveMessage());
    state.pending = true;
    storage.tell(new StorageActor.Get("k", 0, 8, probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k", 8), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", 3, 9, probe.getRef()));
    assertEquals(new StorageActor.WrongEpoch("k", 0, 9), probe.receiveMessage());
  }

  /** Replies to another node travel through its reply router, which reads the request id. */
  @Test
  void everyAnswerToAGetOrPutEchoesItsRequestId() {
    TestState state = new TestState();
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(FailingFirstPut::new, state, t -> {}));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    long id = Long.MAX_VALUE - 1; // all 64 bits survive
    storage.tell(new StorageActor.Put("k", value("v", 1), 0, 5, id, probe.getRef()));
    assertEquals(id, probe.expectMessageClass(StorageActor.StorageFailed.class).request());
    storage.tell(new StorageActor.Put("k", value("v", 1), 0, 6, id + 1, probe.getRef()));
    assertEquals(
        new StorageActor.WriteResult("k", value("v", 1), true, 6, id + 1), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", 0, 7, 3, probe.getRef()));
    assertEquals(new StorageActor.ReadResult("k", value("v", 1), 7, 3), probe.receiveMessage());
    state.pending = true;
    storage.tell(new StorageActor.Get("k", 0, 8, 4, probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k", 8, 4), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", 3, 9, 5, probe.getRef()));
    assertEquals(new StorageActor.WrongEpoch("k", 0, 9, 5), probe.receiveMessage());
    storage.tell(new StorageActor.Put("k", value("v", 2), 3, 10, 6, probe.getRef()));
    assertEquals(new StorageActor.WrongEpoch("k", 0, 10, 6), probe.receiveMessage());
  }

  @Test
  void aGroupCommittedPutEchoesItsRequestId() {
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(
            StorageActor.create(
                InMemoryEngine::new,
                ReplicaState.UNFENCED,
                t -> {},
                StorageActor.WriteMode.grouped((writes, applied, nanos) -> {})));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), 0, 3, 77, probe.getRef()));
    assertEquals(
        new StorageActor.WriteResult("k", value("v", 1), true, 3, 77), probe.receiveMessage());
  }

  @Test
  void taggedRequestsAndAnswersCrossTheWireUnchanged() {
    akka.actor.testkit.typed.javadsl.SerializationTestKit wire = testKit.serializationTestKit();
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    List<Object> messages =
        List.of(
            new StorageActor.Get("k", 41, 6, probe.getRef()),
            new StorageActor.Put("k", value("v", 1), 41, 7, probe.getRef()),
            new StorageActor.WrongEpoch("k", 42, 13),
            new StorageActor.ReadResult("k", value("v", 1), 8),
            new StorageActor.ReadResult("k", null, 9),
            new StorageActor.WriteResult("k", value("v", 1), false, 10),
            new StorageActor.PendingReplica("k", 11),
            new StorageActor.StorageFailed("k", "disk full", 12),
            new StorageActor.Get("k", 41, 6, Long.MAX_VALUE, probe.getRef()),
            new StorageActor.Put("k", value("v", 1), 41, 7, 1L << 40, probe.getRef()),
            new StorageActor.WrongEpoch("k", 42, 13, 14),
            new StorageActor.ReadResult("k", value("v", 1), 8, 15),
            new StorageActor.WriteResult("k", value("v", 1), true, 10, Long.MAX_VALUE),
            new StorageActor.PendingReplica("k", 11, 16),
            new StorageActor.StorageFailed("k", "disk full", 12, 17));
    for (Object message : messages) {
      assertEquals(message, wire.verifySerialization(message, false));
    }
  }

  @Test
  void theRocksDbEngineIsClosedWhenTheActorStopsAndCanBeReopened(@TempDir Path dir) {
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    ActorRef<StorageActor.Command> first =
        testKit.spawn(
            StorageActor.create(() -> new RocksDbEngine(dir, false, 8 << 20)),
            "rocks-first",
            DispatcherSelector.fromConfig(StorageActor.DISPATCHER));
    first.tell(new StorageActor.Put("k", value("kept", 3), probe.getRef()));
    probe.receiveMessage();
    testKit.stop(first);
    // RocksDB holds a lock on the directory: reopening succeeds only if the engine was closed
    ActorRef<StorageActor.Command> second =
        testKit.spawn(StorageActor.create(() -> new RocksDbEngine(dir, false, 8 << 20)));
    second.tell(new StorageActor.Get("k", probe.getRef()));
    assertEquals(value("kept", 3), probe.expectMessageClass(StorageActor.ReadResult.class).value());
  }

  /** An engine whose first put fails as a full disk would; everything else works. */
  private static final class FailingFirstPut extends ForwardingEngine {
    private boolean failed;

    @Override
    public Versioned put(String key, Versioned value) {
      if (!failed) {
        failed = true;
        throw new StorageException("No space left on device", null);
      }
      return delegate.put(key, value);
    }
  }
}
