package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dhtnode.ring.TokenRange;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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
    return Versioned.of(text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, "node1"));
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

  @Test
  void aPendingReplicaAppliesWritesButAnswersPendingUntilFilled() {
    java.util.concurrent.atomic.AtomicBoolean pending = new java.util.concurrent.atomic.AtomicBoolean(true);
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new, token -> pending.get()));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k"), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k"), probe.receiveMessage());
    // the stabilizer's own writes are answered normally, pending or not
    storage.tell(new StorageActor.Apply("k2", value("w", 1), probe.getRef()));
    assertTrue(probe.expectMessageClass(StorageActor.WriteResult.class).applied());
    pending.set(false);
    storage.tell(new StorageActor.Get("k", probe.getRef()));
    assertEquals(value("v", 1), probe.expectMessageClass(StorageActor.ReadResult.class).value(),
        "the write made while pending was kept");
  }

  @Test
  void aHandedOffRangeIsNeitherWrittenNorAnsweredAndASweepDeletesItInBatches() {
    java.util.concurrent.atomic.AtomicBoolean foreign = new java.util.concurrent.atomic.AtomicBoolean(false);
    ActorRef<StorageActor.Command> storage = testKit.spawn(
        StorageActor.create(InMemoryEngine::new, token -> false, token -> foreign.get(), t -> { }));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < 5; i++) {
      storage.tell(new StorageActor.Put("k" + i, value("v", 1), probe.getRef()));
      probe.expectMessageClass(StorageActor.WriteResult.class);
    }
    foreign.set(true);
    storage.tell(new StorageActor.Put("late", value("v", 2), probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("late"), probe.receiveMessage());
    storage.tell(new StorageActor.Apply("late", value("v", 2), probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("late"), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k0", probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k0"), probe.receiveMessage(), "an old ring's reader gets no answer");

    storage.tell(new StorageActor.Sweep(TokenRange.full(), null, 3, probe.getRef()));
    StorageActor.Swept first = probe.expectMessageClass(StorageActor.Swept.class);
    assertEquals(3, first.deleted());
    assertFalse(first.complete());
    storage.tell(new StorageActor.Sweep(TokenRange.full(), first.lastKey(), 3, probe.getRef()));
    StorageActor.Swept rest = probe.expectMessageClass(StorageActor.Swept.class);
    assertEquals(2, rest.deleted());
    assertTrue(rest.complete());
    storage.tell(new StorageActor.Scan(TokenRange.full(), null, 10, probe.getRef()));
    assertEquals(List.of(), probe.expectMessageClass(StorageActor.ScanResult.class).entries(), "nothing left, nothing late");
  }

  @Test
  void everyVersionAReplicaStoresMovesTheNodesClockPastIt() {
    dhtnode.replication.HybridClock clock = new dhtnode.replication.HybridClock(() -> 1_000L);
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new, token -> false, clock::observe));
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
    ActorRef<StorageActor.Command> storage = testKit.spawn(StorageActor.create(FailingFirstPut::new));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), probe.getRef()));
    StorageActor.StorageFailed failed = probe.expectMessageClass(StorageActor.StorageFailed.class);
    assertEquals("k", failed.key());
    storage.tell(new StorageActor.Put("k", value("v", 1), probe.getRef()));
    assertTrue(probe.expectMessageClass(StorageActor.WriteResult.class).applied());
  }

  @Test
  void everyAnswerToAGetOrPutEchoesItsTag() {
    java.util.concurrent.atomic.AtomicBoolean pending = new java.util.concurrent.atomic.AtomicBoolean(false);
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(FailingFirstPut::new, token -> pending.get()));
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    storage.tell(new StorageActor.Put("k", value("v", 1), 5, probe.getRef()));
    assertEquals(5, probe.expectMessageClass(StorageActor.StorageFailed.class).tag());
    storage.tell(new StorageActor.Put("k", value("v", 1), 6, probe.getRef()));
    assertEquals(new StorageActor.WriteResult("k", value("v", 1), true, 6), probe.receiveMessage());
    storage.tell(new StorageActor.Get("k", 7, probe.getRef()));
    assertEquals(new StorageActor.ReadResult("k", value("v", 1), 7), probe.receiveMessage());
    pending.set(true);
    storage.tell(new StorageActor.Get("k", 8, probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k", 8), probe.receiveMessage());
    storage.tell(new StorageActor.Put("k", value("w", 2), 9, probe.getRef()));
    assertEquals(new StorageActor.PendingReplica("k", 9), probe.receiveMessage());
  }

  @Test
  void taggedRequestsAndAnswersCrossTheWireUnchanged() {
    akka.actor.testkit.typed.javadsl.SerializationTestKit wire = testKit.serializationTestKit();
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    List<Object> messages = List.of(
        new StorageActor.Get("k", 6, probe.getRef()),
        new StorageActor.Put("k", value("v", 1), 7, probe.getRef()),
        new StorageActor.ReadResult("k", value("v", 1), 8),
        new StorageActor.ReadResult("k", null, 9),
        new StorageActor.WriteResult("k", value("v", 1), false, 10),
        new StorageActor.PendingReplica("k", 11),
        new StorageActor.StorageFailed("k", "disk full", 12));
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
  private static final class FailingFirstPut implements StorageEngine {
    private final InMemoryEngine delegate = new InMemoryEngine();
    private boolean failed;

    @Override
    public Optional<Versioned> get(String key) {
      return delegate.get(key);
    }

    @Override
    public Versioned put(String key, Versioned value) {
      if (!failed) {
        failed = true;
        throw new StorageException("No space left on device", null);
      }
      return delegate.put(key, value);
    }

    @Override
    public boolean purge(String key, Version expected) {
      return delegate.purge(key, expected);
    }

    @Override
    public List<StoredEntry> scan(TokenRange range, String afterKey, int limit) {
      return delegate.scan(range, afterKey, limit);
    }

    @Override
    public long approximateKeyCount() {
      return delegate.approximateKeyCount();
    }

    @Override
    public long approximateSizeBytes() {
      return 0;
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
