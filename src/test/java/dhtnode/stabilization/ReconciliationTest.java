package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dhtnode.keyspace.Murmur3;
import dhtnode.storage.StoredEntry;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReconciliationTest {

  static StoredEntry entry(String key, long ts, String writer) {
    return new StoredEntry(
        key,
        Murmur3.token(key),
        Versioned.of(key.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(ts, writer)));
  }

  static StoredEntry tombstone(String key, long ts) {
    return new StoredEntry(key, Murmur3.token(key), Versioned.tombstone(new Version(ts, "node1")));
  }

  @Test
  void eachSideGetsWhatItLacksOrHoldsOlder() {
    List<StoredEntry> local =
        List.of(
            entry("same", 1, "a"),
            entry("newerHere", 5, "a"),
            entry("olderHere", 1, "a"),
            entry("onlyHere", 1, "a"));
    List<StoredEntry> remote =
        List.of(
            entry("same", 1, "a"),
            entry("newerHere", 4, "a"),
            entry("olderHere", 2, "a"),
            entry("onlyThere", 1, "a"));
    Reconciliation r = Reconciliation.of(local, remote);
    assertEquals(List.of(entry("olderHere", 2, "a"), entry("onlyThere", 1, "a")), r.toPull());
    assertEquals(List.of(entry("newerHere", 5, "a"), entry("onlyHere", 1, "a")), r.toPush());
  }

  @Test
  void aNewerTombstoneTravelsLikeAValue() {
    Reconciliation r = Reconciliation.of(List.of(entry("k", 1, "a")), List.of(tombstone("k", 2)));
    assertEquals(List.of(tombstone("k", 2)), r.toPull());
    assertEquals(List.of(), r.toPush());
  }

  @Test
  void theWriterNameBreaksTimestampTies() {
    Reconciliation r =
        Reconciliation.of(List.of(entry("k", 3, "node1")), List.of(entry("k", 3, "node2")));
    assertEquals(List.of(entry("k", 3, "node2")), r.toPull());
    assertEquals(List.of(), r.toPush());
  }

  @Test
  void oneVersionWithDifferentContentsIsAConflictAndNothingMoves() {
    Reconciliation r =
        Reconciliation.of(
            List.of(entry("k", 3, "node1"), entry("fine", 1, "a")),
            List.of(tombstone("k", 3), entry("fine", 1, "a")));
    assertEquals(List.of(), r.toPull());
    assertEquals(List.of(), r.toPush());
    assertEquals(List.of("k"), r.conflicts());
  }

  @Test
  void equalSidesExchangeNothing() {
    List<StoredEntry> both = List.of(entry("x", 1, "a"), tombstone("y", 2));
    Reconciliation r = Reconciliation.of(both, both);
    assertEquals(List.of(), r.toPull());
    assertEquals(List.of(), r.toPush());
  }
}
