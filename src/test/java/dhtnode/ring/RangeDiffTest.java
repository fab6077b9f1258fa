package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.keyspace.TokenRange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RangeDiffTest {
  private static final int V = 256;

  private static HashRing ring(String... members) {
    return HashRing.of(List.of(members), V, 3);
  }

  @Test
  void aJoiningMemberGainsExactlyWhatItNowReplicatesAndLosesNothing() {
    HashRing before = ring("node1", "node2", "node3", "node4", "node5");
    HashRing after = ring("node1", "node2", "node3", "node4", "node5", "node6");
    RangeDiff joined = RangeDiff.of("node6", before, after);
    assertEquals(after.ownedRanges("node6"), joined.gained());
    assertTrue(joined.lost().isEmpty());
    for (String old : before.members()) {
      RangeDiff diff = RangeDiff.of(old, before, after);
      assertTrue(diff.gained().isEmpty(), old + " gained " + diff.gained());
      assertFalse(diff.lost().isEmpty(), old + " should hand some ranges to node6");
    }
    checkAllMembersAgainstBruteForce(before, after);
  }

  @Test
  void aLeavingMemberLosesAllItHeldAndOthersOnlyGain() {
    HashRing before = ring("node1", "node2", "node3", "node4", "node5", "node6");
    HashRing after = ring("node1", "node2", "node4", "node5", "node6");
    RangeDiff left = RangeDiff.of("node3", before, after);
    assertEquals(before.ownedRanges("node3"), left.lost());
    assertTrue(left.gained().isEmpty());
    for (String stayed : after.members()) {
      assertTrue(RangeDiff.of(stayed, before, after).lost().isEmpty(), stayed);
    }
    checkAllMembersAgainstBruteForce(before, after);
  }

  @Test
  void aFailureDownToFewerMembersThanReplicasGivesTheSurvivorsEverything() {
    HashRing before = ring("node1", "node2", "node3");
    HashRing after = ring("node1", "node2");
    // with N=3 and three members everyone held everything; afterwards too, so nothing moves
    assertTrue(RangeDiff.of("node1", before, after).isEmpty());
    assertEquals(List.of(TokenRange.full()), RangeDiff.of("node3", before, after).lost());
    checkAllMembersAgainstBruteForce(before, after);
  }

  @Test
  void severalChangesAtOnce() {
    HashRing before = ring("node1", "node2", "node3", "node4", "node5");
    // node2 died, node4 left, node6 and node7 joined
    HashRing after = ring("node1", "node3", "node5", "node6", "node7");
    checkAllMembersAgainstBruteForce(before, after);
    double gained = 0;
    double lost = 0;
    for (String m :
        new TreeSet<>(List.of("node1", "node2", "node3", "node4", "node5", "node6", "node7"))) {
      RangeDiff diff = RangeDiff.of(m, before, after);
      gained += length(diff.gained());
      lost += length(diff.lost());
    }
    // every token keeps three replicas, so what some gain the others lose
    assertEquals(lost, gained, 1e-9);
    assertTrue(gained > 0.5);
  }

  @Test
  void rangesWrapAroundTheEndOfTheTokenSpace() {
    Map<String, long[]> two = new LinkedHashMap<>();
    two.put("a", new long[] {-100});
    two.put("b", new long[] {100});
    HashRing before = HashRing.withTokens(two, 1);
    Map<String, long[]> three = new LinkedHashMap<>(two);
    three.put("c", new long[] {Long.MIN_VALUE + 5});
    HashRing after = HashRing.withTokens(three, 1);
    RangeDiff c = RangeDiff.of("c", before, after);
    assertEquals(List.of(new TokenRange(100, Long.MIN_VALUE + 5)), c.gained());
    assertTrue(c.gained().get(0).wraps());
    assertEquals(
        List.of(new TokenRange(100, Long.MIN_VALUE + 5)), RangeDiff.of("a", before, after).lost());
    assertTrue(RangeDiff.of("b", before, after).isEmpty());
    checkAllMembersAgainstBruteForce(before, after);
  }

  @Test
  void arcsMeetingAtTheWrapPointAreMergedIntoOneRange() {
    Map<String, long[]> tokens = new LinkedHashMap<>();
    tokens.put("a", new long[] {0});
    tokens.put("b", new long[] {Long.MIN_VALUE + 10, Long.MAX_VALUE - 10});
    HashRing before = HashRing.withTokens(tokens, 1);
    assertEquals(List.of(new TokenRange(0, Long.MIN_VALUE + 10)), before.ownedRanges("b"));
    tokens.remove("b");
    HashRing after = HashRing.withTokens(tokens, 1);
    // "a" held (MIN+10, 0] already; what it gains is b's arcs, as one wrapping range
    assertEquals(List.of(TokenRange.full()), after.ownedRanges("a"));
    assertEquals(
        List.of(new TokenRange(0, Long.MIN_VALUE + 10)), RangeDiff.of("a", before, after).gained());
    assertEquals(
        List.of(new TokenRange(0, Long.MIN_VALUE + 10)), RangeDiff.of("b", before, after).lost());
    checkAllMembersAgainstBruteForce(before, after);
  }

  @Test
  void aRingAgainstItselfChangesNothing() {
    HashRing r = ring("node1", "node2", "node3", "node4");
    for (String m : r.members()) {
      assertTrue(RangeDiff.of(m, r, ring("node4", "node3", "node2", "node1")).isEmpty());
    }
  }

  /** Every member of either ring: its diff agrees with a token-by-token comparison. */
  private static void checkAllMembersAgainstBruteForce(HashRing before, HashRing after) {
    TreeSet<String> everyone = new TreeSet<>(before.members());
    everyone.addAll(after.members());
    long[] samples = samples(before, after);
    for (String m : everyone) {
      RangeDiff diff = RangeDiff.of(m, before, after);
      assertMerged(diff.gained());
      assertMerged(diff.lost());
      for (long t : samples) {
        boolean was = before.preferenceList(t).contains(m);
        boolean is = after.preferenceList(t).contains(m);
        assertEquals(is && !was, inAny(diff.gained(), t), m + " gained at " + t);
        assertEquals(was && !is, inAny(diff.lost(), t), m + " lost at " + t);
      }
    }
  }

  /** Random tokens plus every token of both rings, its neighbours and both ends of the space. */
  private static long[] samples(HashRing before, HashRing after) {
    List<Long> list = new ArrayList<>();
    Random random = new Random(9);
    for (int i = 0; i < 20_000; i++) {
      list.add(random.nextLong());
    }
    for (HashRing r : List.of(before, after)) {
      for (int i = 0; i < r.size(); i++) {
        list.add(r.tokenAt(i));
        list.add(r.tokenAt(i) + 1);
        list.add(r.tokenAt(i) - 1);
      }
    }
    list.add(Long.MIN_VALUE);
    list.add(Long.MAX_VALUE);
    return list.stream().mapToLong(Long::longValue).toArray();
  }

  private static boolean inAny(List<TokenRange> ranges, long token) {
    for (TokenRange r : ranges) {
      if (r.contains(token)) {
        return true;
      }
    }
    return false;
  }

  private static void assertMerged(List<TokenRange> ranges) {
    for (int i = 1; i < ranges.size(); i++) {
      assertTrue(ranges.get(i - 1).end() != ranges.get(i).start(), "unmerged " + ranges);
    }
    if (ranges.size() > 1) {
      assertTrue(
          ranges.get(ranges.size() - 1).end() != ranges.get(0).start(), "unmerged " + ranges);
    }
  }

  private static double length(List<TokenRange> ranges) {
    double total = 0;
    for (TokenRange r : ranges) {
      total += HashRing.arcLength(r.start(), r.end()) / 0x1p64;
    }
    return total;
  }
}
