package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import dhtnode.keyspace.TokenRange;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Group commit ({@link StorageActor.WriteMode#grouped}): writes that arrive while a batch is being
 * written share the next one. Each test holds the first batch inside the engine (a gate, as a slow
 * fsync would), sends the writes that must be grouped while it is held, and then opens the gate, so
 * what forms the second batch is decided by the mailbox, not by timing.
 */
class StorageActorGroupCommitTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Versioned value(String text, long ts) {
    return Versioned.of(
        text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, "node1"));
  }

  /**
   * The in-memory engine behind a gate: counts batches (each one sync on RocksDB with fsync on) and
   * single puts, holds every batch until {@link #open} once {@link #shut} was called, can fail one
   * batch, and records which writes a committed batch held, so an answer can be checked against it.
   */
  private static final class CountingEngine extends ForwardingEngine {
    final List<Integer> batches = new CopyOnWriteArrayList<>();
    final AtomicInteger singlePuts = new AtomicInteger();
    final Set<String> committed = ConcurrentHashMap.newKeySet();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);
    volatile boolean gated;
    volatile int failBatch = -1;
    private int calls;

    CountingEngine shut() {
      gated = true;
      return this;
    }

    void open() {
      gate.countDown();
    }

    /** Waits, with a deadline, until the first batch is inside the engine. */
    void awaitFirstBatch() throws InterruptedException {
      assertTrue(entered.await(10, TimeUnit.SECONDS), "no batch reached the engine");
    }

    static String id(String key, Versioned v) {
      return key + "@" + v.version();
    }

    @Override
    public List<Versioned> putAll(List<Write> writes) {
      int call = calls++;
      entered.countDown();
      try {
        if (gated && !gate.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test never opened the gate");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StorageException("interrupted", e);
      }
      if (call == failBatch) {
        throw new StorageException("I/O error: fsync failed", null);
      }
      List<Versioned> stored = delegate.putAll(writes);
      writes.forEach(w -> committed.add(id(w.key(), w.value())));
      batches.add(writes.size());
      return stored;
    }

    @Override
    public Versioned put(String key, Versioned value) {
      singlePuts.incrementAndGet();
      return delegate.put(key, value);
    }

    @Override
    public void close() {} // left open: the test may read it after the actor has stopped
  }

  /** An answer as its receiver saw it, with whether its write's batch had been committed then. */
  private record Seen(StorageActor.Reply reply, boolean committedFirst) {}

  /** Forwards every answer to {@code probe}, noting whether the engine had committed it already. */
  private static ActorRef<StorageActor.Reply> witness(
      CountingEngine engine, TestProbe<Seen> probe) {
    return testKit.spawn(
        Behaviors.receive(StorageActor.Reply.class)
            .onAnyMessage(
                reply -> {
                  boolean committed =
                      reply instanceof StorageActor.WriteResult w
                          && engine.committed.contains(CountingEngine.id(w.key(), w.stored()));
                  probe.getRef().tell(new Seen(reply, committed));
                  return Behaviors.same();
                })
            .build());
  }

  private final List<int[]> observed = new CopyOnWriteArrayList<>();

  private ActorRef<StorageActor.Command> spawnGrouped(CountingEngine engine) {
    return testKit.spawn(
        StorageActor.create(
            () -> engine,
            ReplicaState.UNFENCED,
            t -> {},
            StorageActor.WriteMode.grouped(
                (writes, applied, nanos) -> observed.add(new int[] {writes, applied}))));
  }

  @Test
  void concurrentPutsShareOneSyncAndEachIsAnsweredOnlyAfterIt() throws Exception {
    CountingEngine engine = new CountingEngine().shut();
    ActorRef<StorageActor.Command> storage = spawnGrouped(engine);
    TestProbe<Seen> probe = testKit.createTestProbe();
    ActorRef<StorageActor.Reply> replyTo = witness(engine, probe);

    storage.tell(new StorageActor.Put("a", value("a", 1), 0, 1, replyTo));
    engine.awaitFirstBatch();
    for (int tag = 2; tag <= 9; tag++) { // all arrive while the first batch is being synced
      storage.tell(new StorageActor.Put("k" + tag, value("v", tag), 0, tag, replyTo));
    }
    engine.open();

    for (int tag = 1; tag <= 9; tag++) {
      Seen seen = probe.receiveMessage();
      StorageActor.WriteResult result = (StorageActor.WriteResult) seen.reply();
      assertEquals(tag, result.tag(), "answered in arrival order");
      assertTrue(result.applied());
      assertTrue(seen.committedFirst(), "write " + tag + " was answered before its batch was");
    }
    assertEquals(List.of(1, 8), engine.batches, "eight writes, one sync");
    assertEquals(0, engine.singlePuts.get());
    assertEquals(List.of("1/1", "8/8"), observed.stream().map(o -> o[0] + "/" + o[1]).toList());
  }

  @Test
  void aFailedBatchFailsEveryWriteInItStoresNoneAndTheActorKeepsServing() throws Exception {
    CountingEngine engine = new CountingEngine().shut();
    engine.failBatch = 1;
    ActorRef<StorageActor.Command> storage = spawnGrouped(engine);
    TestProbe<Seen> probe = testKit.createTestProbe();
    ActorRef<StorageActor.Reply> replyTo = witness(engine, probe);

    storage.tell(new StorageActor.Put("a", value("first", 1), 0, 1, replyTo));
    engine.awaitFirstBatch();
    storage.tell(new StorageActor.Put("b", value("b", 2), 0, 2, replyTo));
    storage.tell(new StorageActor.Put("a", value("second", 3), 0, 3, replyTo));
    storage.tell(new StorageActor.Apply("c", value("c", 4), replyTo));
    engine.open();

    assertTrue(((StorageActor.WriteResult) probe.receiveMessage().reply()).applied());
    assertEquals(
        new StorageActor.StorageFailed("b", "I/O error: fsync failed", 2),
        probe.receiveMessage().reply());
    assertEquals(
        new StorageActor.StorageFailed("a", "I/O error: fsync failed", 3),
        probe.receiveMessage().reply());
    assertEquals(
        new StorageActor.StorageFailed("c", "I/O error: fsync failed", 0),
        probe.receiveMessage().reply());

    for (String key : List.of("a", "b", "c")) {
      storage.tell(new StorageActor.Get(key, 0, 10, replyTo));
    }
    assertEquals(
        new StorageActor.ReadResult("a", value("first", 1), 10), probe.receiveMessage().reply());
    assertEquals(new StorageActor.ReadResult("b", null, 10), probe.receiveMessage().reply());
    assertEquals(new StorageActor.ReadResult("c", null, 10), probe.receiveMessage().reply());

    storage.tell(new StorageActor.Put("b", value("b again", 5), 0, 11, replyTo));
    Seen again = probe.receiveMessage();
    assertEquals(new StorageActor.WriteResult("b", value("b again", 5), true, 11), again.reply());
    assertTrue(again.committedFirst());
    assertEquals(List.of(1, 1), engine.batches, "the failed batch was not counted as synced");
  }

  /** The same writes to one key, all in one batch, and one at a time on a per-write actor. */
  @Test
  void writesToOneKeyInOneBatchEndAsTheyWouldOneAfterTheOther() throws Exception {
    List<StorageActor.Command> writes = new ArrayList<>();
    TestProbe<Seen> grouped = testKit.createTestProbe();
    TestProbe<Seen> single = testKit.createTestProbe();
    CountingEngine engine = new CountingEngine().shut();
    CountingEngine reference = new CountingEngine();
    ActorRef<StorageActor.Command> batching = spawnGrouped(engine);
    ActorRef<StorageActor.Command> perWrite =
        testKit.spawn(
            StorageActor.create(
                () -> reference, ReplicaState.UNFENCED, t -> {}, StorageActor.WriteMode.PER_WRITE));
    ActorRef<StorageActor.Reply> groupedTo = witness(engine, grouped);
    ActorRef<StorageActor.Reply> singleTo = witness(reference, single);

    batching.tell(new StorageActor.Put("other", value("x", 1), 0, 1, groupedTo));
    perWrite.tell(new StorageActor.Put("other", value("x", 1), 0, 1, singleTo));
    engine.awaitFirstBatch();
    Versioned[] sequence = {
      value("k at 5", 5),
      value("k at 4", 4), // older than the write before it in the batch: refused
      Versioned.tombstone(new Version(7, "node1")),
      value("k at 6", 6), // the tombstone in the same batch keeps it out
      new Versioned(
          "k at 7".getBytes(StandardCharsets.UTF_8),
          "text/plain",
          new Version(7, "node1"),
          false), // the tombstone's own version: refused, the tombstone stays
      value("k at 8", 8)
    };
    for (int i = 0; i < sequence.length; i++) {
      batching.tell(new StorageActor.Put("k", sequence[i], 0, 2 + i, groupedTo));
      perWrite.tell(new StorageActor.Put("k", sequence[i], 0, 2 + i, singleTo));
    }
    engine.open();

    List<StorageActor.Reply> fromBatch = new ArrayList<>();
    List<StorageActor.Reply> oneByOne = new ArrayList<>();
    for (int i = 0; i <= sequence.length; i++) {
      fromBatch.add(grouped.receiveMessage().reply());
      oneByOne.add(single.receiveMessage().reply());
    }
    assertEquals(oneByOne, fromBatch);
    assertEquals(
        List.of(true, true, false, true, false, false, true),
        fromBatch.stream().map(r -> ((StorageActor.WriteResult) r).applied()).toList());
    assertEquals(List.of(1, sequence.length), engine.batches, "the six writes were one batch");
    assertEquals(sequence.length + 1, reference.singlePuts.get(), "per-write mode never batches");
    assertEquals(List.of(), reference.batches);
    assertEquals(reference.get("k"), engine.get("k"));
    assertEquals(value("k at 8", 8), engine.get("k").orElseThrow());
  }

  @Test
  void readsSeeOnlyCommittedWritesAndScansCommitWhatArrivedBeforeThem() throws Exception {
    CountingEngine engine = new CountingEngine().shut();
    ActorRef<StorageActor.Command> storage = spawnGrouped(engine);
    TestProbe<Seen> probe = testKit.createTestProbe();
    ActorRef<StorageActor.Reply> replyTo = witness(engine, probe);

    storage.tell(new StorageActor.Put("a", value("a", 1), 0, 1, replyTo));
    engine.awaitFirstBatch();
    storage.tell(new StorageActor.Put("b", value("b", 2), 0, 2, replyTo));
    storage.tell(new StorageActor.Get("b", 0, 3, replyTo)); // before b's batch: not visible yet
    storage.tell(new StorageActor.Put("c", value("c", 3), 0, 4, replyTo));
    storage.tell(new StorageActor.Scan(TokenRange.full(), null, 10, replyTo));
    engine.open();

    assertEquals(1, ((StorageActor.WriteResult) probe.receiveMessage().reply()).tag());
    assertEquals(new StorageActor.ReadResult("b", null, 3), probe.receiveMessage().reply());
    Seen b = probe.receiveMessage();
    Seen c = probe.receiveMessage();
    assertEquals(List.of(2, 4), List.of(tag(b), tag(c)), "the scan committed b and c first");
    assertTrue(b.committedFirst() && c.committedFirst());
    StorageActor.ScanResult scan = (StorageActor.ScanResult) probe.receiveMessage().reply();
    assertEquals(
        Set.of("a", "b", "c"),
        Set.copyOf(scan.entries().stream().map(StoredEntry::key).toList()),
        "the scan holds every write that arrived before it");
    assertEquals(List.of(1, 2), engine.batches);
  }

  @Test
  void aBatchIsCommittedAtOnceWhenItReachesItsBound() throws Exception {
    CountingEngine engine = new CountingEngine().shut();
    ActorRef<StorageActor.Command> storage = spawnGrouped(engine);
    TestProbe<Seen> probe = testKit.createTestProbe();
    ActorRef<StorageActor.Reply> replyTo = witness(engine, probe);

    storage.tell(new StorageActor.Put("first", value("v", 1), 0, 0, replyTo));
    engine.awaitFirstBatch();
    int writes = StorageActor.MAX_BATCH_WRITES + 10;
    for (int i = 1; i <= writes; i++) {
      storage.tell(new StorageActor.Put("k" + i, value("v", 1), 0, i, replyTo));
    }
    engine.open();
    for (int i = 0; i <= writes; i++) {
      Seen seen = probe.receiveMessage();
      assertEquals(i, tag(seen));
      assertTrue(seen.committedFirst());
    }
    assertEquals(List.of(1, StorageActor.MAX_BATCH_WRITES, 10), engine.batches);
  }

  private static int tag(Seen seen) {
    return ((StorageActor.WriteResult) seen.reply()).tag();
  }
}
