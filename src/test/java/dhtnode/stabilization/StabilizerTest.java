package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import dhtnode.keyspace.Murmur3;
import dhtnode.keyspace.TokenRange;
import dhtnode.ring.HashRing;
import dhtnode.ring.RingSnapshot;
import dhtnode.storage.InMemoryEngine;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StoredEntry;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class StabilizerTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static final StabilizerSettings SETTINGS =
      StabilizerSettings.of(100, 128 * 1024, 10, Duration.ofSeconds(3), Duration.ofSeconds(10), 4);

  /** A node as a stabilization test sees it: its name, storage and Stabilizer. */
  record Node(
      String name,
      ActorRef<StorageActor.Command> storage,
      ActorRef<Stabilizer.Command> stabilizer) {
    Stabilizer.Source asSource() {
      return new Stabilizer.Source(name, stabilizer);
    }
  }

  /** No ring: every node at epoch 0, replicating everything, nothing to refill. */
  static final RingSnapshot NO_RING = new RingSnapshot(0, HashRing.of(List.of(), 1, 1));

  private static Node node(String name, StabilizerSettings settings) {
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new));
    ReplicaStatus status = new ReplicaStatus(name, () -> NO_RING, false);
    return new Node(
        name, storage, testKit.spawn(Stabilizer.create(name, storage, settings, status)));
  }

  private static Versioned value(String key, long ts, String writer) {
    return Versioned.of(
        (key + "@" + ts).getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, writer));
  }

  private static void put(Node node, String key, Versioned v) {
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    node.storage().tell(new StorageActor.Put(key, v, probe.getRef()));
    probe.expectMessageClass(StorageActor.WriteResult.class);
  }

  /** Everything a node holds in {@code range}, in ring order, read in pages. */
  private static Map<String, Versioned> contents(Node node, TokenRange range) {
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    Map<String, Versioned> out = new LinkedHashMap<>();
    String after = null;
    while (true) {
      node.storage().tell(new StorageActor.Scan(range, after, 500, probe.getRef()));
      StorageActor.ScanResult page = probe.expectMessageClass(StorageActor.ScanResult.class);
      for (StoredEntry e : page.entries()) {
        out.put(e.key(), e.value());
        after = e.key();
      }
      if (page.complete()) {
        return out;
      }
    }
  }

  private static Stabilizer.RepairDone repair(Node initiator, Node peer, TokenRange range) {
    TestProbe<Stabilizer.RepairDone> probe = testKit.createTestProbe();
    initiator
        .stabilizer()
        .tell(new Stabilizer.Repair(range, 0, peer.name(), peer.stabilizer(), probe.getRef()));
    return probe.expectMessageClass(Stabilizer.RepairDone.class, Duration.ofSeconds(20));
  }

  private static Stabilizer.FetchDone fetch(
      Node receiver, TokenRange range, int mergeFrom, Stabilizer.Source... sources) {
    TestProbe<Stabilizer.FetchDone> probe = testKit.createTestProbe();
    receiver
        .stabilizer()
        .tell(new Stabilizer.Fetch(range, 0, List.of(sources), mergeFrom, probe.getRef()));
    return probe.expectMessageClass(Stabilizer.FetchDone.class, Duration.ofSeconds(20));
  }

  /**
   * A fake peer Stabilizer: forwards everything to a real one, reports each batch request to a
   * probe, and stops answering batch requests after the first {@code answered} of them.
   */
  static final class Relay extends AbstractBehavior<Stabilizer.Command> {
    static Behavior<Stabilizer.Command> create(
        ActorRef<Stabilizer.Command> target, ActorRef<Stabilizer.GetBatch> seen, int answered) {
      return Behaviors.setup(context -> new Relay(context, target, seen, answered));
    }

    private final ActorRef<Stabilizer.Command> target;
    private final ActorRef<Stabilizer.GetBatch> seen;
    private int left;

    private Relay(
        ActorContext<Stabilizer.Command> context,
        ActorRef<Stabilizer.Command> target,
        ActorRef<Stabilizer.GetBatch> seen,
        int answered) {
      super(context);
      this.target = target;
      this.seen = seen;
      this.left = answered;
    }

    @Override
    public Receive<Stabilizer.Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Stabilizer.GetBatch.class, this::onGetBatch)
          .onMessage(Stabilizer.Command.class, this::onOther)
          .build();
    }

    private Behavior<Stabilizer.Command> onGetBatch(Stabilizer.GetBatch request) {
      seen.tell(request);
      if (left > 0) {
        left--;
        target.tell(request);
      }
      return this;
    }

    private Behavior<Stabilizer.Command> onOther(Stabilizer.Command command) {
      target.tell(command);
      return this;
    }
  }

  // ---------------------------------------------------------------- repair

  @Test
  void repairGivesBothReplicasTheNewestVersionOfEveryKeyAndCountsWhatMoved() {
    TokenRange range = new TokenRange(Long.MIN_VALUE / 2, Long.MAX_VALUE / 2);
    Node a = node("a1", SETTINGS);
    Node b = node("b1", SETTINGS);
    List<String> keys = MerkleTreeTest.keysIn(range, 520, 11);
    for (String k : keys.subList(0, 500)) {
      put(a, k, value(k, 10, "w"));
      put(b, k, value(k, 10, "w"));
    }
    Set<String> differing = new HashSet<>();
    // a ahead: 3 keys only on a, 2 newer on a, 1 deleted on a later than b's value
    for (String k : keys.subList(500, 503)) {
      put(a, k, value(k, 20, "w"));
    }
    for (String k : keys.subList(0, 2)) {
      put(a, k, value(k, 30, "w"));
    }
    put(a, keys.get(2), Versioned.tombstone(new Version(40, "w")));
    // b ahead: 2 keys only on b, 1 newer on b, 1 tombstone b alone holds
    for (String k : keys.subList(503, 505)) {
      put(b, k, value(k, 20, "w"));
    }
    put(b, keys.get(3), value(keys.get(3), 30, "w"));
    put(b, keys.get(505), Versioned.tombstone(new Version(50, "w")));
    differing.addAll(keys.subList(500, 506));
    differing.addAll(keys.subList(0, 4));
    // a key outside the range that differs must stay where it is
    String outside =
        MerkleTreeTest.keysIn(new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2), 1, 5).get(0);
    put(b, outside, value(outside, 1, "w"));

    Stabilizer.RepairDone done = repair(a, b, range);

    assertTrue(done.ok(), done.error());
    assertNull(done.error());
    assertEquals(4, done.keysPulled());
    assertEquals(6, done.keysPushed());
    assertEquals(leavesHolding(range, SETTINGS.merkleDepth, differing), done.mismatchedLeaves());
    Map<String, Versioned> onA = contents(a, range);
    assertEquals(onA, contents(b, range));
    assertEquals(506, onA.size());
    assertEquals(value(keys.get(0), 30, "w"), onA.get(keys.get(0)));
    assertEquals(value(keys.get(3), 30, "w"), onA.get(keys.get(3)));
    assertEquals(Versioned.tombstone(new Version(40, "w")), onA.get(keys.get(2)));
    assertEquals(Versioned.tombstone(new Version(50, "w")), onA.get(keys.get(505)));
    assertEquals(value(keys.get(504), 20, "w"), onA.get(keys.get(504)));
    assertEquals(Map.of(), contents(a, new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2)));
  }

  /** How many leaves of a tree of {@code range} hold at least one of {@code keys}. */
  private static int leavesHolding(TokenRange range, int depth, Set<String> keys) {
    MerkleTree shape = MerkleTree.builder(range, depth).build();
    Set<Integer> leaves = new HashSet<>();
    for (String k : keys) {
      for (int i = 0; i < shape.leafCount(); i++) {
        if (shape.leafRange(i).contains(Murmur3.token(k))) {
          leaves.add(i);
        }
      }
    }
    return leaves.size();
  }

  @Test
  void repairOfEqualReplicasFindsNoMismatchAndMovesNothing() {
    TokenRange range = TokenRange.full();
    Node a = node("a2", SETTINGS);
    Node b = node("b2", SETTINGS);
    for (String k : MerkleTreeTest.keysIn(range, 300, 12)) {
      put(a, k, value(k, 7, "w"));
      put(b, k, value(k, 7, "w"));
    }
    Stabilizer.RepairDone done = repair(a, b, range);
    assertEquals(new Stabilizer.RepairDone(range, "b2", 0, 0, 0, true, null), done);
  }

  @Test
  void repairOfAWrappingRangeConvergesItAndLeavesTheRestAlone() {
    TokenRange range = new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2);
    TokenRange rest = new TokenRange(Long.MIN_VALUE / 2, Long.MAX_VALUE / 2);
    Node a = node("a3", SETTINGS);
    Node b = node("b3", SETTINGS);
    List<String> inside = MerkleTreeTest.keysIn(range, 400, 13);
    for (int i = 0; i < inside.size(); i++) {
      String k = inside.get(i);
      // a holds the even keys, b the odd ones, and both hold every tenth key
      if (i % 2 == 0 || i % 10 == 1) {
        put(a, k, value(k, 3, "w"));
      }
      if (i % 2 == 1 || i % 10 == 0) {
        put(b, k, value(k, 3, "w"));
      }
    }
    List<String> outside = MerkleTreeTest.keysIn(rest, 20, 14);
    for (String k : outside) {
      put(b, k, value(k, 3, "w"));
    }
    long wrapped = inside.stream().filter(k -> Murmur3.token(k) < 0).count();
    assertTrue(wrapped > 0 && wrapped < inside.size(), "keys on both sides of the wrap");

    Stabilizer.RepairDone done = repair(a, b, range);

    assertTrue(done.ok(), done.error());
    assertEquals(160, done.keysPulled());
    assertEquals(160, done.keysPushed());
    assertEquals(contents(a, range), contents(b, range));
    assertEquals(400, contents(a, range).size());
    assertEquals(Map.of(), contents(a, rest));
    assertEquals(20, contents(b, rest).size());
  }

  @Test
  void repairWithAPeerThatNeverAnswersFailsWithinTheTimeout() {
    Node a =
        node(
            "a4",
            StabilizerSettings.of(
                100, 128 * 1024, 4, Duration.ofMillis(300), Duration.ofMillis(300), 4));
    TestProbe<Stabilizer.Command> silent = testKit.createTestProbe();
    TestProbe<Stabilizer.RepairDone> probe = testKit.createTestProbe();
    a.stabilizer()
        .tell(
            new Stabilizer.Repair(TokenRange.full(), 0, "ghost", silent.getRef(), probe.getRef()));
    silent.expectMessageClass(Stabilizer.GetTree.class);
    Stabilizer.RepairDone done =
        probe.expectMessageClass(Stabilizer.RepairDone.class, Duration.ofSeconds(5));
    assertFalse(done.ok());
    assertTrue(done.error().contains("ghost"), done.error());
  }

  private static Versioned stored(Node node, String key) {
    return contents(node, TokenRange.full()).get(key);
  }

  @Test
  void oldTombstonesArePurgedOnlyWhereEveryReplicaHoldsTheSameOne() {
    Node a = node("t1a", SETTINGS);
    Node b = node("t1b", SETTINGS);
    Node c = node("t1c", SETTINGS);
    List<String> keys = MerkleTreeTest.keysIn(TokenRange.full(), 5, 31);
    Versioned old = Versioned.tombstone(new Version(100, "w"));
    Versioned young = Versioned.tombstone(new Version(900, "w"));
    // 0: old tombstone everywhere -> purged; 1: c still holds the value it deleted -> kept
    // 2: young tombstone everywhere -> kept; 3: c holds a newer value -> kept; 4: live values
    for (Node n : List.of(a, b, c)) {
      put(n, keys.get(0), old);
      put(n, keys.get(2), young);
      put(n, keys.get(4), value(keys.get(4), 50, "w"));
    }
    put(a, keys.get(1), old);
    put(b, keys.get(1), old);
    put(c, keys.get(1), value(keys.get(1), 50, "w"));
    put(a, keys.get(3), old);
    put(b, keys.get(3), old);
    put(c, keys.get(3), value(keys.get(3), 200, "w"));

    TestProbe<Stabilizer.CollectDone> probe = testKit.createTestProbe();
    a.stabilizer()
        .tell(
            new Stabilizer.CollectTombstones(
                TokenRange.full(), 0, List.of(b.asSource(), c.asSource()), 500, probe.getRef()));
    Stabilizer.CollectDone done =
        probe.expectMessageClass(Stabilizer.CollectDone.class, Duration.ofSeconds(10));

    assertTrue(done.ok(), done.error());
    assertEquals(1, done.purged());
    for (Node n : List.of(a, b, c)) {
      assertNull(stored(n, keys.get(0)), "purged on " + n.name());
      assertEquals(young, stored(n, keys.get(2)));
      assertEquals(value(keys.get(4), 50, "w"), stored(n, keys.get(4)));
    }
    assertEquals(old, stored(a, keys.get(1)), "c could bring the value back: the delete is kept");
    assertEquals(value(keys.get(1), 50, "w"), stored(c, keys.get(1)));
    assertEquals(old, stored(b, keys.get(3)));
  }

  @Test
  void tombstoneCollectionWithASilentReplicaPurgesNothing() {
    Node a =
        node(
            "t2a",
            StabilizerSettings.of(
                100, 128 * 1024, 4, Duration.ofMillis(300), Duration.ofMillis(300), 4));
    Node b = node("t2b", SETTINGS);
    String key = MerkleTreeTest.keysIn(TokenRange.full(), 1, 32).get(0);
    Versioned old = Versioned.tombstone(new Version(100, "w"));
    put(a, key, old);
    put(b, key, old);
    TestProbe<Stabilizer.Command> silent = testKit.createTestProbe();
    TestProbe<Stabilizer.CollectDone> probe = testKit.createTestProbe();
    a.stabilizer()
        .tell(
            new Stabilizer.CollectTombstones(
                TokenRange.full(),
                0,
                List.of(b.asSource(), new Stabilizer.Source("ghost", silent.getRef())),
                500,
                probe.getRef()));
    Stabilizer.CollectDone done =
        probe.expectMessageClass(Stabilizer.CollectDone.class, Duration.ofSeconds(5));
    assertFalse(done.ok());
    assertEquals(0, done.purged());
    assertEquals(old, stored(a, key));
    assertEquals(old, stored(b, key));
  }

  @Test
  void aSourceServesPeersOnlyAtTheirEpochAndNeverWhatItHasNotRefilled() {
    RingSnapshot[] ring = {new RingSnapshot(5, HashRing.of(List.of("e1", "e2"), 8, 2))};
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new));
    ReplicaStatus status = new ReplicaStatus("e1", () -> ring[0], false);
    ActorRef<Stabilizer.Command> n =
        testKit.spawn(Stabilizer.create("e1", storage, SETTINGS, status));
    TestProbe<Stabilizer.PeerReply> peer = testKit.createTestProbe();
    n.tell(new Stabilizer.GetBatch(TokenRange.full(), null, 10, 5, peer.getRef()));
    assertTrue(peer.receiveMessage() instanceof Stabilizer.Batch, "served at its own epoch");
    n.tell(new Stabilizer.GetBatch(TokenRange.full(), null, 10, 4, peer.getRef()));
    assertTrue(peer.receiveMessage() instanceof Stabilizer.PeerFailed, "not at an older epoch");
    n.tell(new Stabilizer.GetTree(TokenRange.full(), 4, 6, peer.getRef()));
    assertTrue(peer.receiveMessage() instanceof Stabilizer.PeerFailed, "not at a newer one");
    n.tell(new Stabilizer.GetVersions(List.of("k"), 6, peer.getRef()));
    assertTrue(peer.receiveMessage() instanceof Stabilizer.PeerFailed);
    status.setRecovering(ReplicaStatus.EVERYTHING);
    n.tell(new Stabilizer.GetBatch(TokenRange.full(), null, 10, 5, peer.getRef()));
    assertTrue(
        peer.receiveMessage() instanceof Stabilizer.PeerFailed,
        "an empty copy would count as a source");
  }

  @Test
  void aDropDeletesWhatTheNodeNoLongerHoldsAndKeepsTheRest() {
    // e2 replicates only part of the ring: N=1 on a two-node ring
    RingSnapshot ring = new RingSnapshot(3, HashRing.of(List.of("d1", "d2"), 8, 1));
    ReplicaStatus status = new ReplicaStatus("d2", () -> ring, false);
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new, status, t -> {}));
    Node n =
        new Node("d2", storage, testKit.spawn(Stabilizer.create("d2", storage, SETTINGS, status)));
    List<String> keys = MerkleTreeTest.keysIn(TokenRange.full(), 40, 33);
    for (String k : keys) {
      TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
      n.storage().tell(new StorageActor.Put(k, value(k, 10, "w"), 3, 0, probe.getRef()));
      probe.expectMessageClass(StorageActor.WriteResult.class);
    }
    long held = keys.stream().filter(k -> status.holds(Murmur3.token(k))).count();
    assertTrue(held > 0 && held < 40, "a part of the keys is held: " + held);
    TestProbe<Stabilizer.DropDone> dropped = testKit.createTestProbe();
    n.stabilizer().tell(new Stabilizer.Drop(TokenRange.full(), dropped.getRef()));
    Stabilizer.DropDone done = dropped.receiveMessage(Duration.ofSeconds(5));
    assertTrue(done.ok());
    assertEquals(40 - held, done.deleted());
    assertEquals(held, contents(n, TokenRange.full()).size(), "what it still replicates stays");
  }

  // ---------------------------------------------------------------- fetch

  @Test
  void fetchStreamsExactlyTheRangeInBoundedBatches() {
    TokenRange range = new TokenRange(-4_000_000_000_000_000_000L, 5_000_000_000_000_000_000L);
    Node source = node("s5", SETTINGS);
    Node receiver = node("r5", SETTINGS);
    for (String k : MerkleTreeTest.keysIn(range, 2000, 15)) {
      put(source, k, value(k, 1, "w"));
    }
    for (String k : MerkleTreeTest.keysIn(new TokenRange(range.end(), range.start()), 300, 16)) {
      put(source, k, value(k, 1, "w"));
    }
    TestProbe<Stabilizer.GetBatch> seen = testKit.createTestProbe();
    ActorRef<Stabilizer.Command> relay =
        testKit.spawn(Relay.create(source.stabilizer(), seen.getRef(), Integer.MAX_VALUE));

    Stabilizer.FetchDone done = fetch(receiver, range, 1, new Stabilizer.Source("s5", relay));

    assertTrue(done.ok(), done.error());
    assertEquals(List.of("s5"), done.completedFrom());
    assertEquals(2000, done.keys());
    assertTrue(done.bytes() > 2000 * 10, "bytes " + done.bytes());
    assertEquals(contents(source, range), contents(receiver, TokenRange.full()));
    List<Stabilizer.GetBatch> requests = seen.receiveSeveralMessages(21);
    assertNull(requests.get(0).afterKey());
    assertTrue(requests.stream().allMatch(r -> r.limit() == 100));
    seen.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void largeValuesAreStreamedInBatchesCutByTheByteBudget() {
    TokenRange range = TokenRange.full();
    Node source =
        node(
            "s12",
            StabilizerSettings.of(100, 4096, 10, Duration.ofSeconds(3), Duration.ofSeconds(10), 4));
    Node receiver = node("r12", SETTINGS);
    List<String> keys = MerkleTreeTest.keysIn(range, 40, 21);
    for (int i = 0; i < keys.size(); i++) {
      // 1 KiB values, and one far above the budget
      byte[] bytes = new byte[i == 7 ? 10_000 : 1000];
      bytes[0] = (byte) i;
      put(
          source,
          keys.get(i),
          Versioned.of(bytes, "application/octet-stream", new Version(1, "w")));
    }
    TestProbe<Stabilizer.GetBatch> seen = testKit.createTestProbe();
    ActorRef<Stabilizer.Command> relay =
        testKit.spawn(Relay.create(source.stabilizer(), seen.getRef(), Integer.MAX_VALUE));

    Stabilizer.FetchDone done = fetch(receiver, range, 1, new Stabilizer.Source("s12", relay));

    assertTrue(done.ok(), done.error());
    assertEquals(40, done.keys());
    assertEquals(contents(source, range), contents(receiver, range));
    // 4 KiB holds at most 4 such entries, so 40 keys take at least 10 batches
    assertEquals(10, seen.receiveSeveralMessages(10).size());
  }

  @Test
  void fetchInterruptedMidwayResumesFromTheLastKeyOnTheNextSource() {
    TokenRange range = new TokenRange(-4_000_000_000_000_000_000L, 5_000_000_000_000_000_000L);
    StabilizerSettings quick =
        StabilizerSettings.of(
            100, 128 * 1024, 10, Duration.ofMillis(500), Duration.ofSeconds(5), 4);
    Node first = node("s6a", SETTINGS);
    Node second = node("s6b", SETTINGS);
    Node receiver = node("r6", quick);
    for (String k : MerkleTreeTest.keysIn(range, 2000, 17)) {
      put(first, k, value(k, 1, "w"));
      put(second, k, value(k, 1, "w"));
    }
    TestProbe<Stabilizer.GetBatch> seenFirst = testKit.createTestProbe();
    TestProbe<Stabilizer.GetBatch> seenSecond = testKit.createTestProbe();
    ActorRef<Stabilizer.Command> dying =
        testKit.spawn(Relay.create(first.stabilizer(), seenFirst.getRef(), 5));
    ActorRef<Stabilizer.Command> healthy =
        testKit.spawn(Relay.create(second.stabilizer(), seenSecond.getRef(), Integer.MAX_VALUE));

    Stabilizer.FetchDone done =
        fetch(
            receiver,
            range,
            1,
            new Stabilizer.Source("s6a", dying),
            new Stabilizer.Source("s6b", healthy));

    assertTrue(done.ok(), done.error());
    assertEquals(List.of("s6b"), done.completedFrom());
    assertEquals(2000, done.keys(), "nothing fetched twice");
    assertEquals(contents(first, range), contents(receiver, TokenRange.full()));
    List<String> ringOrder = new ArrayList<>(contents(first, range).keySet());
    assertEquals(6, seenFirst.receiveSeveralMessages(6).size());
    assertEquals(ringOrder.get(499), seenSecond.receiveMessage().afterKey());
  }

  @Test
  void fetchMergingFromTwoSourcesKeepsTheNewestVersionOfEachKey() {
    TokenRange range = TokenRange.full();
    Node a = node("s7a", SETTINGS);
    Node b = node("s7b", SETTINGS);
    Node receiver = node("r7", SETTINGS);
    List<String> keys = MerkleTreeTest.keysIn(range, 600, 18);
    Map<String, Versioned> newest = new LinkedHashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      String k = keys.get(i);
      Versioned older = value(k, 1, "w");
      Versioned newer = i % 7 == 0 ? Versioned.tombstone(new Version(2, "w")) : value(k, 2, "w");
      switch (i % 4) {
        case 0 -> {
          put(a, k, newer);
          put(b, k, older);
          newest.put(k, newer);
        }
        case 1 -> {
          put(a, k, older);
          put(b, k, newer);
          newest.put(k, newer);
        }
        case 2 -> {
          put(a, k, older);
          newest.put(k, older);
        }
        default -> {
          put(b, k, newer);
          newest.put(k, newer);
        }
      }
    }

    Stabilizer.FetchDone done = fetch(receiver, range, 2, a.asSource(), b.asSource());

    assertTrue(done.ok(), done.error());
    assertEquals(List.of("s7a", "s7b"), done.completedFrom());
    assertEquals(contents(a, range).size() + contents(b, range).size(), done.keys());
    assertEquals(newest, contents(receiver, range));
  }

  @Test
  void fetchFailsWhenFewerThanMergeFromSourcesCanBeStreamed() {
    StabilizerSettings quick =
        StabilizerSettings.of(
            100, 128 * 1024, 10, Duration.ofMillis(300), Duration.ofSeconds(5), 4);
    Node a = node("s8a", SETTINGS);
    Node receiver = node("r8", quick);
    put(a, "k", value("k", 1, "w"));
    TestProbe<Stabilizer.Command> silent = testKit.createTestProbe();

    Stabilizer.FetchDone done =
        fetch(
            receiver,
            TokenRange.full(),
            2,
            a.asSource(),
            new Stabilizer.Source("ghost", silent.getRef()));

    assertFalse(done.ok());
    assertEquals(List.of("s8a"), done.completedFrom());
    assertTrue(done.error().contains("ghost"), done.error());
    Stabilizer.FetchDone invalid = fetch(receiver, TokenRange.full(), 3, a.asSource());
    assertFalse(invalid.ok());
    assertTrue(invalid.error().contains("mergeFrom"), invalid.error());
  }

  @Test
  void sessionsBeyondTheConcurrencyLimitWaitForARunningOneToEnd() {
    StabilizerSettings one =
        StabilizerSettings.of(
            100, 128 * 1024, 10, Duration.ofMillis(500), Duration.ofSeconds(5), 1);
    Node source = node("s9", SETTINGS);
    Node receiver = node("r9", one);
    put(source, "k", value("k", 1, "w"));
    TestProbe<Stabilizer.Command> silent = testKit.createTestProbe();
    TestProbe<Stabilizer.FetchDone> probe = testKit.createTestProbe();
    receiver
        .stabilizer()
        .tell(
            new Stabilizer.Fetch(
                TokenRange.full(),
                0,
                List.of(new Stabilizer.Source("ghost", silent.getRef())),
                1,
                probe.getRef()));
    receiver
        .stabilizer()
        .tell(
            new Stabilizer.Fetch(
                TokenRange.full(), 0, List.of(source.asSource()), 1, probe.getRef()));
    // the fast fetch cannot overtake the slow one: it only starts when the slow one has timed out
    Stabilizer.FetchDone firstDone =
        probe.expectMessageClass(Stabilizer.FetchDone.class, Duration.ofSeconds(5));
    assertFalse(firstDone.ok());
    Stabilizer.FetchDone secondDone =
        probe.expectMessageClass(Stabilizer.FetchDone.class, Duration.ofSeconds(5));
    assertTrue(secondDone.ok(), secondDone.error());
    assertEquals(1, secondDone.keys());
  }

  // ---------------------------------------------------------------- serving side

  @Test
  void aBatchRequestBeyondTheEndOfTheRangeIsAnsweredComplete() {
    TokenRange range = TokenRange.full();
    Node node = node("s10", SETTINGS);
    List<String> keys = MerkleTreeTest.keysIn(range, 30, 19);
    for (String k : keys) {
      put(node, k, value(k, 1, "w"));
    }
    List<String> ringOrder = new ArrayList<>(contents(node, range).keySet());
    TestProbe<Stabilizer.PeerReply> probe = testKit.createTestProbe();

    node.stabilizer()
        .tell(new Stabilizer.GetBatch(range, ringOrder.get(29), 10, 0, probe.getRef()));
    assertEquals(
        new Stabilizer.Batch(range, ringOrder.get(29), List.of(), true), probe.receiveMessage());

    node.stabilizer()
        .tell(new Stabilizer.GetBatch(range, ringOrder.get(24), 10, 0, probe.getRef()));
    Stabilizer.Batch tail = probe.expectMessageClass(Stabilizer.Batch.class);
    assertTrue(tail.complete());
    assertEquals(ringOrder.subList(25, 30), tail.entries().stream().map(StoredEntry::key).toList());

    node.stabilizer().tell(new Stabilizer.GetBatch(range, null, 10, 0, probe.getRef()));
    Stabilizer.Batch head = probe.expectMessageClass(Stabilizer.Batch.class);
    assertFalse(head.complete());
    assertEquals(ringOrder.subList(0, 10), head.entries().stream().map(StoredEntry::key).toList());
  }

  @Test
  void aServedTreeEqualsOneBuiltFromTheSameEntries() {
    TokenRange range = new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2);
    Node node = node("s11", SETTINGS);
    MerkleTree.Builder expected = MerkleTree.builder(range, 6);
    for (String k : MerkleTreeTest.keysIn(range, 250, 20)) {
      put(node, k, value(k, 4, "w"));
      expected.add(Murmur3.token(k), MerkleTree.entryHash(k, value(k, 4, "w")));
    }
    TestProbe<Stabilizer.PeerReply> probe = testKit.createTestProbe();
    node.stabilizer().tell(new Stabilizer.GetTree(range, 6, 0, probe.getRef()));
    Stabilizer.TreeBuilt tree = probe.expectMessageClass(Stabilizer.TreeBuilt.class);
    assertArrayEquals(expected.build().hashes(), tree.hashes());
  }

  @Test
  void messagesBetweenStabilizersSurviveTheirWireFormat() {
    Serialization serialization = SerializationExtension.get(testKit.system());
    TestProbe<Stabilizer.PeerReply> probe = testKit.createTestProbe();
    StoredEntry live = new StoredEntry("k", Murmur3.token("k"), value("k", 3, "node2"));
    StoredEntry dead =
        new StoredEntry("d", Murmur3.token("d"), Versioned.tombstone(new Version(4, "node3")));
    TokenRange range = new TokenRange(5, -5);
    List<Object> messages =
        List.of(
            new Stabilizer.GetTree(range, 10, 0, probe.getRef()),
            new Stabilizer.GetBatch(range, null, 100, 0, probe.getRef()),
            new Stabilizer.GetBatch(range, "k", 100, 0, probe.getRef()),
            new Stabilizer.ApplyEntries(List.of(live, dead), probe.getRef()),
            new Stabilizer.Batch(range, null, List.of(live, dead), true),
            new Stabilizer.EntriesApplied(2, 1, 40),
            new Stabilizer.PeerFailed("why"),
            new Stabilizer.RepairDone(range, "n", 1, 2, 3, false, "e"),
            new Stabilizer.FetchDone(range, 9, List.of("n"), 2, 3, true, null),
            new Stabilizer.GetVersions(List.of("k", "d"), 9, probe.getRef()),
            new Stabilizer.VersionsOf(java.util.Arrays.asList(new Version(4, "node3"), null)),
            new Stabilizer.PurgeEntries(
                List.of(new Stabilizer.KeyVersion("d", new Version(4, "node3"))), probe.getRef()),
            new Stabilizer.EntriesPurged(1));
    for (Object m : messages) {
      akka.serialization.Serializer serializer = serialization.findSerializerFor(m);
      assertEquals(
          "akka.serialization.jackson.JacksonCborSerializer", serializer.getClass().getName());
      byte[] bytes = serialization.serialize(m).get();
      Object back =
          serialization
              .deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, m))
              .get();
      assertEquals(m, back);
    }
    Stabilizer.TreeBuilt tree = new Stabilizer.TreeBuilt(range, 1, new long[] {0, 7, 3, 4});
    akka.serialization.Serializer serializer = serialization.findSerializerFor(tree);
    Object back =
        serialization
            .deserialize(
                serialization.serialize(tree).get(),
                serializer.identifier(),
                Serializers.manifestFor(serializer, tree))
            .get();
    assertNotNull(back);
    assertArrayEquals(tree.hashes(), ((Stabilizer.TreeBuilt) back).hashes());
  }
}
