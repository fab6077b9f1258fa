package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.keyspace.Murmur3;
import dhtnode.keyspace.TokenRange;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MerkleTreeTest {

  static List<String> keysIn(TokenRange range, int n, long seed) {
    Random random = new Random(seed);
    List<String> keys = new ArrayList<>();
    while (keys.size() < n) {
      String k = "k" + random.nextLong();
      if (range.contains(Murmur3.token(k))) {
        keys.add(k);
      }
    }
    return keys;
  }

  static Versioned entry(String key, long version) {
    return Versioned.of(
        key.getBytes(StandardCharsets.UTF_8), "text/plain", new Version(version, "node1"));
  }

  @Test
  void oneVersionWithOtherBytesOrATombstoneFlagHashesDifferently() {
    Version v = new Version(7, "node1");
    long value = MerkleTree.entryHash("k", Versioned.of(new byte[] {1}, "text/plain", v));
    assertEquals(value, MerkleTree.entryHash("k", Versioned.of(new byte[] {1}, "text/plain", v)));
    assertNotEquals(
        value, MerkleTree.entryHash("k", Versioned.of(new byte[] {2}, "text/plain", v)));
    assertNotEquals(value, MerkleTree.entryHash("k", Versioned.of(new byte[] {1}, "text/html", v)));
    assertNotEquals(
        MerkleTree.entryHash("k", Versioned.of(new byte[0], "", v)),
        MerkleTree.entryHash("k", Versioned.tombstone(v)));
    assertNotEquals(
        value,
        MerkleTree.entryHash(
            "k", Versioned.of(new byte[] {1}, "text/plain", new Version(7, "node2"))));
  }

  static MerkleTree tree(TokenRange range, int depth, List<String> keys, long version) {
    MerkleTree.Builder b = MerkleTree.builder(range, depth);
    for (String k : keys) {
      b.add(Murmur3.token(k), MerkleTree.entryHash(k, entry(k, version)));
    }
    return b.build();
  }

  @Test
  void equalDataGivesEqualRootsWhateverTheOrderOfInsertion() {
    TokenRange range = TokenRange.full();
    List<String> keys = keysIn(range, 1000, 1);
    List<String> shuffled = new ArrayList<>(keys);
    Collections.shuffle(shuffled, new Random(2));
    MerkleTree a = tree(range, 10, keys, 5);
    MerkleTree b = tree(range, 10, shuffled, 5);
    assertEquals(a.root(), b.root());
    assertEquals(List.of(), a.difference(b));
  }

  @Test
  void oneDifferingVersionNarrowsTheDifferenceToItsLeaf() {
    for (TokenRange range :
        List.of(
            TokenRange.full(),
            new TokenRange(-1000L, Long.MAX_VALUE / 3),
            new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2))) {
      List<String> keys = keysIn(range, 500, 3);
      MerkleTree a = tree(range, 8, keys, 5);
      MerkleTree.Builder b = MerkleTree.builder(range, 8);
      String odd = keys.get(17);
      for (String k : keys) {
        b.add(Murmur3.token(k), MerkleTree.entryHash(k, entry(k, k.equals(odd) ? 6 : 5)));
      }
      MerkleTree other = b.build();
      assertNotEquals(a.root(), other.root());
      List<TokenRange> diff = a.difference(other);
      assertEquals(1, diff.size(), range.toString());
      assertTrue(diff.get(0).contains(Murmur3.token(odd)));
      long inDiff = keys.stream().filter(k -> diff.get(0).contains(Murmur3.token(k))).count();
      assertTrue(inDiff <= 15, "the leaf holds a few keys, not the range: " + inDiff);
    }
  }

  @Test
  void aMissingKeyIsFoundInAWrappingRange() {
    TokenRange wrapping = new TokenRange(Long.MAX_VALUE - 1000, Long.MIN_VALUE + (1L << 60));
    List<String> keys = keysIn(wrapping, 300, 4);
    MerkleTree full = tree(wrapping, 6, keys, 1);
    String missing = keys.get(0);
    MerkleTree partial = tree(wrapping, 6, keys.subList(1, keys.size()), 1);
    List<TokenRange> diff = full.difference(partial);
    assertEquals(1, diff.size());
    assertTrue(diff.get(0).contains(Murmur3.token(missing)));
  }

  @Test
  void leavesTileTheRangeExactly() {
    for (TokenRange range :
        List.of(
            TokenRange.full(),
            new TokenRange(5, 1_000_005),
            new TokenRange(Long.MAX_VALUE - 10, Long.MIN_VALUE + 10))) {
      MerkleTree t = MerkleTree.builder(range, 4).build();
      assertEquals(range.start(), t.leafRange(0).start());
      for (int i = 1; i < t.leafCount(); i++) {
        assertEquals(t.leafRange(i - 1).end(), t.leafRange(i).start());
      }
      assertEquals(range.end(), t.leafRange(t.leafCount() - 1).end());
    }
  }

  @Test
  void everyKeyLandsInTheLeafWhoseRangeHoldsIt() {
    TokenRange range = new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2);
    List<String> keys = keysIn(range, 200, 5);
    for (String k : keys) {
      MerkleTree empty = MerkleTree.builder(range, 5).build();
      MerkleTree one = MerkleTree.builder(range, 5).add(Murmur3.token(k), 42).build();
      List<TokenRange> diff = empty.difference(one);
      assertEquals(1, diff.size());
      assertTrue(diff.get(0).contains(Murmur3.token(k)), k);
    }
  }

  @Test
  void adjacentDifferingLeavesAreMerged() {
    TokenRange range = new TokenRange(0, 1 << 20);
    MerkleTree a = MerkleTree.builder(range, 4).build();
    MerkleTree b = MerkleTree.builder(range, 4).add(1, 7).add((1 << 16) + 1, 9).build();
    List<TokenRange> diff = a.difference(b);
    assertEquals(List.of(new TokenRange(0, 2 << 16)), diff);
  }

  @Test
  void aTreeSurvivesItsSerialisedForm() {
    TokenRange range = TokenRange.full();
    MerkleTree a = tree(range, 6, keysIn(range, 100, 6), 3);
    MerkleTree copy = MerkleTree.of(range, 6, a.hashes());
    assertEquals(a.root(), copy.root());
    assertEquals(List.of(), a.difference(copy));
  }

  @Test
  void differingLeavesAreListedOneByOneEvenWhenAdjacent() {
    TokenRange range = new TokenRange(Long.MAX_VALUE / 2, Long.MIN_VALUE / 2);
    List<String> keys = keysIn(range, 2000, 7);
    MerkleTree a = tree(range, 4, keys, 5);
    MerkleTree b = tree(range, 4, keys, 6);
    List<TokenRange> leaves = a.differingLeaves(b);
    assertEquals(16, leaves.size());
    for (int i = 0; i < 16; i++) {
      assertEquals(a.leafRange(i), leaves.get(i));
    }
    assertEquals(List.of(range), a.difference(b));
    assertEquals(List.of(), a.differingLeaves(tree(range, 4, keys, 5)));
  }
}
