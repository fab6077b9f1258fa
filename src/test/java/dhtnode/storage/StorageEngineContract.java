package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.keyspace.Murmur3;
import dhtnode.keyspace.TokenRange;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The behaviour every {@link StorageEngine} must have; one subclass per engine runs it. */
abstract class StorageEngineContract {

  protected StorageEngine engine;

  protected abstract StorageEngine open();

  @BeforeEach
  void openEngine() {
    engine = open();
  }

  @AfterEach
  void closeEngine() {
    engine.close();
  }

  static Versioned value(String text, long ts, String writer) {
    return Versioned.of(
        text.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, writer));
  }

  static String text(Versioned v) {
    return new String(v.value(), StandardCharsets.UTF_8);
  }

  @Test
  void getOfAnUnwrittenKeyIsEmpty() {
    assertEquals(Optional.empty(), engine.get("never-written"));
  }

  @Test
  void putThenGetReturnsTheValueWithItsTypeAndVersion() {
    Versioned v = value("hello", 10, "node1");
    assertEquals(v, engine.put("k", v));
    Versioned got = engine.get("k").orElseThrow();
    assertEquals(v, got);
    assertEquals("text/plain", got.contentType());
    assertEquals(new Version(10, "node1"), got.version());
  }

  @Test
  void newestVersionWinsWhateverTheOrderOfArrival() {
    List<Versioned> writes =
        List.of(
            value("a", 5, "node1"),
            value("b", 7, "node1"),
            value("c", 7, "node2"),
            value("d", 6, "node3"));
    Versioned newest = value("c", 7, "node2"); // equal timestamps: writer name breaks the tie
    for (List<Versioned> order : permutations(writes)) {
      String key =
          "perm-" + order.stream().map(StorageEngineContract::text).collect(Collectors.joining());
      for (Versioned w : order) {
        engine.put(key, w);
      }
      assertEquals(newest, engine.get(key).orElseThrow(), "order " + order);
    }
  }

  @Test
  void anOlderWriteIsRefusedAndThePutReturnsTheKeptValue() {
    Versioned newer = value("new", 20, "node1");
    engine.put("k", newer);
    Versioned kept = engine.put("k", value("old", 19, "node9"));
    assertEquals(newer, kept);
    assertEquals(newer, engine.get("k").orElseThrow());
  }

  @Test
  void anEqualVersionWithOtherContentsIsRefusedAndThePutReturnsTheKeptValue() {
    Versioned first = value("first", 30, "node1");
    engine.put("k", first);
    assertEquals(first, engine.put("k", value("second", 30, "node1")));
    assertEquals(first, engine.put("k", Versioned.tombstone(new Version(30, "node1"))));
    assertEquals(first, engine.get("k").orElseThrow());
  }

  @Test
  void reapplyingTheSameWriteIsIdempotent() {
    Versioned v = value("once", 3, "node1");
    engine.put("k", v);
    engine.put("k", v);
    assertEquals(v, engine.get("k").orElseThrow());
    assertEquals(1, engine.scan(TokenRange.full(), null, 10).size());
  }

  @Test
  void aTombstoneHidesOlderWritesAndANewerWriteRevivesTheKey() {
    engine.put("k", value("v1", 1, "node1"));
    Versioned tomb = Versioned.tombstone(new Version(2, "node1"));
    engine.put("k", tomb);
    assertTrue(engine.get("k").orElseThrow().tombstone());
    engine.put("k", value("late-old", 1, "node2"));
    assertEquals(
        tomb, engine.get("k").orElseThrow(), "an older write must not resurrect a deleted key");
    engine.put("k", value("v3", 3, "node1"));
    assertEquals("v3", text(engine.get("k").orElseThrow()));
  }

  @Test
  void binaryValuesAndEmptyValuesRoundTripExactly() {
    byte[] all = new byte[256 * 4];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) i;
    }
    engine.put("bin", Versioned.of(all, "application/octet-stream", new Version(1, "n")));
    assertArrayEquals(all, engine.get("bin").orElseThrow().value());
    engine.put("empty", Versioned.of(new byte[0], "text/plain", new Version(1, "n")));
    assertArrayEquals(new byte[0], engine.get("empty").orElseThrow().value());
  }

  @Test
  void nonAsciiKeysAreDistinctAndExact() {
    List<String> keys =
        List.of(
            "a/b",
            "a%2Fb",
            "q?x=1",
            "#frag",
            "with space",
            "ключ",
            "🔑",
            "\u00e9",
            "e\u0301"); // NFC and NFD forms are different keys
    for (int i = 0; i < keys.size(); i++) {
      engine.put(keys.get(i), value("v" + i, 1, "n"));
    }
    for (int i = 0; i < keys.size(); i++) {
      assertEquals("v" + i, text(engine.get(keys.get(i)).orElseThrow()), keys.get(i));
    }
  }

  @Test
  void aBatchEndsAsItsWritesWouldOneAfterTheOther() {
    engine.put("old", value("stored before", 9, "n"));
    Versioned k5 = value("k at 5", 5, "n");
    Versioned k4 = value("k at 4", 4, "n");
    Versioned k6 = value("k at 6", 6, "n");
    Versioned deleted = Versioned.tombstone(new Version(3, "n"));
    Versioned older = value("j at 2", 2, "n");
    Versioned stale = value("old at 8", 8, "n");
    List<Versioned> stored =
        engine.putAll(
            List.of(
                new StorageEngine.Write("k", k5),
                new StorageEngine.Write("k", k4),
                new StorageEngine.Write("j", deleted),
                new StorageEngine.Write("k", k6),
                new StorageEngine.Write("j", older),
                new StorageEngine.Write("old", stale)));
    assertEquals(List.of(k5, k5, deleted, k6, deleted, value("stored before", 9, "n")), stored);
    assertTrue(stored.get(0) == k5 && stored.get(3) == k6, "an applied write returns itself");
    assertEquals(k6, engine.get("k").orElseThrow());
    assertTrue(engine.get("j").orElseThrow().tombstone(), "the tombstone kept the older write out");
    assertEquals("stored before", text(engine.get("old").orElseThrow()));
  }

  @Test
  void aBatchOfRefusedWritesChangesNothing() {
    engine.put("k", value("newest", 7, "n"));
    List<Versioned> stored =
        engine.putAll(
            List.of(
                new StorageEngine.Write("k", value("a", 6, "n")),
                new StorageEngine.Write("k", value("b", 7, "n"))));
    assertEquals(List.of(value("newest", 7, "n"), value("newest", 7, "n")), stored);
    assertEquals(List.of(), engine.putAll(List.of()));
    assertEquals(value("newest", 7, "n"), engine.get("k").orElseThrow());
  }

  @Test
  void purgeRemovesOnlyTheExactVersion() {
    engine.put("k", value("v", 5, "node1"));
    assertFalse(engine.purge("k", new Version(4, "node1")));
    assertFalse(engine.purge("absent", new Version(5, "node1")));
    assertTrue(engine.get("k").isPresent());
    assertTrue(engine.purge("k", new Version(5, "node1")));
    assertEquals(Optional.empty(), engine.get("k"));
  }

  @Test
  void aFullScanReturnsEveryKeyInTokenOrder() {
    List<String> keys = randomKeys(500, 1);
    keys.forEach(k -> engine.put(k, value(k, 1, "n")));
    List<StoredEntry> scanned = engine.scan(TokenRange.full(), null, 10_000);
    assertEquals(sortedByToken(keys), scanned.stream().map(StoredEntry::key).toList());
    for (StoredEntry e : scanned) {
      assertEquals(Murmur3.token(e.key()), e.token());
      assertEquals(e.key(), text(e.value()));
    }
  }

  @Test
  void aRangeScanReturnsExactlyTheKeysInTheRangeIncludingWrappingRanges() {
    List<String> keys = randomKeys(400, 2);
    keys.forEach(k -> engine.put(k, value(k, 1, "n")));
    Random random = new Random(3);
    List<TokenRange> ranges = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ranges.add(new TokenRange(random.nextLong(), random.nextLong())); // about half of them wrap
    }
    ranges.add(new TokenRange(Long.MIN_VALUE, Long.MAX_VALUE));
    ranges.add(new TokenRange(Long.MAX_VALUE, Long.MIN_VALUE));
    ranges.add(new TokenRange(Long.MAX_VALUE, Long.MAX_VALUE));
    long someToken = Murmur3.token(keys.get(0));
    ranges.add(new TokenRange(someToken - 1, someToken)); // end is inclusive
    ranges.add(new TokenRange(someToken, someToken + 1)); // start is exclusive
    for (TokenRange range : ranges) {
      List<String> expected = keys.stream().filter(k -> range.contains(Murmur3.token(k))).toList();
      List<String> got = engine.scan(range, null, 10_000).stream().map(StoredEntry::key).toList();
      assertEquals(scanOrder(expected, range), got, "range " + range);
    }
  }

  @Test
  void aScanResumedInBatchesEqualsOneFullScan() {
    List<String> keys = randomKeys(300, 4);
    keys.forEach(k -> engine.put(k, value(k, 1, "n")));
    for (TokenRange range :
        List.of(TokenRange.full(), new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2))) {
      List<String> whole = engine.scan(range, null, 10_000).stream().map(StoredEntry::key).toList();
      List<String> batched = new ArrayList<>();
      String after = null;
      while (true) {
        List<StoredEntry> batch = engine.scan(range, after, 7);
        batch.forEach(e -> batched.add(e.key()));
        if (batch.size() < 7) {
          break;
        }
        after = batch.get(batch.size() - 1).key();
      }
      assertEquals(whole, batched, "range " + range);
    }
  }

  @Test
  void scansIncludeTombstonesSoHandoffCarriesDeletes() {
    engine.put("gone", Versioned.tombstone(new Version(9, "n")));
    List<StoredEntry> all = engine.scan(TokenRange.full(), null, 10);
    assertEquals(1, all.size());
    assertTrue(all.get(0).value().tombstone());
  }

  @Test
  void keyCountCountsStoredKeys() {
    randomKeys(50, 5).forEach(k -> engine.put(k, value(k, 1, "n")));
    assertTrue(engine.approximateKeyCount() > 0);
  }

  static List<String> randomKeys(int n, long seed) {
    Random random = new Random(seed);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      keys.add("key-" + i + "-" + Long.toHexString(random.nextLong()));
    }
    return keys;
  }

  static List<String> sortedByToken(List<String> keys) {
    return keys.stream()
        .sorted(Comparator.comparingLong(Murmur3::token).thenComparing(k -> k))
        .toList();
  }

  /** A wrapping range scans from its start to the end of the ring, then from the beginning. */
  static List<String> scanOrder(List<String> keys, TokenRange range) {
    List<String> sorted = sortedByToken(keys);
    if (!range.wraps()) {
      return sorted;
    }
    List<String> out = new ArrayList<>();
    sorted.stream().filter(k -> Murmur3.token(k) > range.start()).forEach(out::add);
    sorted.stream().filter(k -> Murmur3.token(k) <= range.start()).forEach(out::add);
    return out;
  }

  static <T> List<List<T>> permutations(List<T> items) {
    if (items.isEmpty()) {
      return List.of(List.of());
    }
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      List<T> rest = new ArrayList<>(items);
      T head = rest.remove(i);
      for (List<T> tail : permutations(rest)) {
        List<T> p = new ArrayList<>();
        p.add(head);
        p.addAll(tail);
        out.add(p);
      }
    }
    return out;
  }
}
