package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.keyspace.Murmur3;
import dhtnode.keyspace.TokenRange;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashRingTest {
  private static final int V = 256;
  private static final List<String> FIVE = List.of("node1", "node2", "node3", "node4", "node5");

  private static HashRing ring(int n, String... members) {
    return HashRing.of(List.of(members), V, n);
  }

  @Test
  void sameMembersInAnyOrderBuildTheSameRing() {
    HashRing a = HashRing.of(List.of("node3", "node1", "node2"), V, 3);
    HashRing b = HashRing.of(List.of("node2", "node3", "node1", "node2"), V, 3);
    assertEquals(a, b);
    assertEquals(a.tokens(), b.tokens());
    Random random = new Random(1);
    for (int i = 0; i < 10_000; i++) {
      long token = random.nextLong();
      assertEquals(a.preferenceList(token), b.preferenceList(token));
    }
    assertEquals(List.of("node1", "node2", "node3"), a.members());
  }

  @Test
  void tokensAreMurmurOfNameHashIndexSortedWithOwners() {
    HashRing r = ring(3, "a", "b");
    assertEquals(2 * V, r.size());
    List<HashRing.VNodeToken> tokens = r.tokens();
    for (int i = 1; i < tokens.size(); i++) {
      assertTrue(tokens.get(i - 1).token() <= tokens.get(i).token());
    }
    assertTrue(
        tokens.contains(
            new HashRing.VNodeToken(
                Murmur3.hash64("a#0".getBytes(java.nio.charset.StandardCharsets.UTF_8)), "a")));
    assertTrue(tokens.contains(new HashRing.VNodeToken(HashRing.vnodeToken("b", V - 1), "b")));
  }

  @Test
  void preferenceListIsTheFirstNDistinctMembersClockwise() {
    HashRing r = HashRing.of(FIVE, V, 3);
    Random random = new Random(2);
    for (int i = 0; i < 20_000; i++) {
      long token = random.nextLong();
      assertEquals(bruteForcePreference(r, token, 3), r.preferenceList(token), "token " + token);
    }
    // exactly on a vnode token the key belongs to that vnode (successor is >=)
    long onToken = r.tokenAt(17);
    assertEquals(r.ownerAt(17), r.preferenceList(onToken).get(0));
    // beyond the last token the ring wraps to the first vnode
    assertEquals(r.ownerAt(0), r.preferenceList(Long.MAX_VALUE).get(0));
    assertEquals(r.ownerAt(0), r.primary(r.tokenAt(r.size() - 1) + 1));
  }

  @Test
  void preferenceListHasNDistinctMembers() {
    HashRing r = HashRing.of(FIVE, V, 3);
    for (int i = 0; i < 1000; i++) {
      List<String> list = r.preferenceList("key-" + i);
      assertEquals(3, list.size());
      assertEquals(3, new HashSet<>(list).size());
    }
  }

  @Test
  void fewerMembersThanReplicationFactorGivesEveryMember() {
    HashRing two = ring(3, "node1", "node2");
    assertEquals(2, two.replicaCount());
    for (int i = 0; i < 1000; i++) {
      List<String> list = two.preferenceList("key-" + i);
      assertEquals(2, list.size());
      assertEquals(new HashSet<>(List.of("node1", "node2")), new HashSet<>(list));
    }
    assertEquals(List.of("solo"), ring(3, "solo").preferenceList("anything"));
    assertEquals(List.of(), HashRing.of(List.of(), V, 3).preferenceList("anything"));
  }

  @Test
  void lookupReturnsThePrecomputedListWithoutAllocating() {
    HashRing r = HashRing.of(FIVE, V, 3);
    long token = Murmur3.token("some key");
    assertSame(r.preferenceList(token), r.preferenceList(token));
    assertSame(r.preferenceList(token), r.preferenceList("some key"));
  }

  @Test
  void equalTokensAreOrderedByNameWhateverTheInputOrder() {
    Map<String, long[]> tokens = new LinkedHashMap<>();
    tokens.put("b", new long[] {100, 300});
    tokens.put("a", new long[] {100});
    tokens.put("c", new long[] {200});
    HashRing r = HashRing.withTokens(tokens, 2);
    Map<String, long[]> reversed = new LinkedHashMap<>();
    reversed.put("c", new long[] {200});
    reversed.put("a", new long[] {100});
    reversed.put("b", new long[] {300, 100});
    HashRing same = HashRing.withTokens(reversed, 2);
    assertEquals(r.tokens(), same.tokens());
    assertEquals(List.of("a", "b"), r.preferenceList(100));
    assertEquals(List.of("a", "b"), r.preferenceList(50));
    assertEquals(List.of("c", "b"), r.preferenceList(101));
    assertEquals(List.of("b", "a"), r.preferenceList(250));
    assertEquals(List.of("a", "b"), r.preferenceList(301));
    // the tied vnode behind "a" owns no token space
    assertEquals((300 - 200) / 0x1p64, r.ownershipShare("b"), 1e-18);
    assertEquals(1.0, r.ownershipShare("a") + r.ownershipShare("b") + r.ownershipShare("c"), 1e-12);
  }

  @Test
  void fiveMembersShareTheTokenSpaceWithin125PercentOfTheMean() {
    HashRing r = HashRing.of(FIVE, V, 3);
    double total = 0;
    double max = 0;
    for (String m : FIVE) {
      total += r.ownershipShare(m);
      max = Math.max(max, r.ownershipShare(m));
    }
    assertEquals(1.0, total, 1e-9);
    assertTrue(max <= 1.25 * (1.0 / 5), "largest share " + max);
    // and not just for these names: random 5-member clusters
    Random random = new Random(3);
    for (int t = 0; t < 50; t++) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        names.add("host-" + random.nextInt(1_000_000));
      }
      HashRing other = HashRing.of(names, V, 3);
      for (String m : other.members()) {
        assertTrue(other.ownershipShare(m) <= 1.25 / other.members().size(), names + " " + m);
      }
    }
  }

  @Test
  void addingASixthMemberMovesAboutASixthOfKeysAllToTheNewMember() {
    HashRing before = HashRing.of(FIVE, V, 3);
    List<String> six = new ArrayList<>(FIVE);
    six.add("node6");
    HashRing after = HashRing.of(six, V, 3);
    Random random = new Random(4);
    int keys = 100_000;
    int primaryMoved = 0;
    int listsChanged = 0;
    for (int i = 0; i < keys; i++) {
      String key = "key-" + random.nextLong();
      List<String> was = before.preferenceList(key);
      List<String> now = after.preferenceList(key);
      if (!was.get(0).equals(now.get(0))) {
        primaryMoved++;
        assertEquals("node6", now.get(0), key);
      }
      if (!was.equals(now)) {
        listsChanged++;
        assertTrue(now.contains("node6"), key);
        // the others keep their relative order; only the last one may drop out
        List<String> rest = new ArrayList<>(now);
        rest.remove("node6");
        assertEquals(was.subList(0, rest.size()), rest, key);
      }
    }
    double movedShare = (double) primaryMoved / keys;
    // expected 1/6 = 0.167; the new member's share is within 1.25x of fair, sampling adds ~0.2%
    assertTrue(movedShare > 0.12 && movedShare < 0.21, "primary moved for " + movedShare);
    assertEquals(after.ownershipShare("node6"), movedShare, 0.01);
    // with N=3 the new member joins about 3/6 of the preference lists
    double changedShare = (double) listsChanged / keys;
    assertTrue(changedShare > 0.4 && changedShare < 0.6, "lists changed for " + changedShare);
    assertEquals(HashRing.movedFraction(before, after), changedShare, 0.01);
    assertEquals(HashRing.primaryMovedFraction(before, after), movedShare, 0.01);
  }

  @Test
  void movedFractionIsZeroForTheSameMembersAndOneFromAnEmptyRing() {
    HashRing a = HashRing.of(FIVE, V, 3);
    assertEquals(0.0, HashRing.movedFraction(a, HashRing.of(FIVE, V, 3)));
    assertEquals(1.0, HashRing.movedFraction(HashRing.of(List.of(), V, 3), a), 1e-12);
  }

  @Test
  void ownedRangesCoverExactlyTheTokensWhoseListHoldsTheMember() {
    HashRing r = HashRing.of(FIVE, V, 3);
    Random random = new Random(5);
    double total = 0;
    for (String m : FIVE) {
      List<TokenRange> owned = r.ownedRanges(m);
      for (int i = 1; i < owned.size(); i++) {
        // merged: no range starts where the previous one ended
        assertFalse(owned.get(i - 1).end() == owned.get(i).start());
      }
      for (TokenRange range : owned) {
        total += HashRing.arcLength(range.start(), range.end()) / 0x1p64;
      }
      for (int i = 0; i < 5_000; i++) {
        long token = random.nextLong();
        boolean inRanges = owned.stream().anyMatch(range -> range.contains(token));
        assertEquals(r.preferenceList(token).contains(m), inRanges, m + " at " + token);
      }
      for (int i = 0; i < r.size(); i++) {
        long t = r.tokenAt(i);
        assertEquals(r.preferenceList(t).contains(m), owned.stream().anyMatch(x -> x.contains(t)));
      }
    }
    // each token has 3 replicas, so the members' ranges add up to 3 rings
    assertEquals(3.0, total, 1e-9);
  }

  @Test
  void aMemberOfEveryListOwnsTheFullRing() {
    HashRing r = ring(3, "node1", "node2", "node3");
    assertEquals(List.of(TokenRange.full()), r.ownedRanges("node2"));
    assertEquals(List.of(), r.ownedRanges("stranger"));
  }

  @Test
  void replicasForARangeAreEveryReplicaOfItsTokens() {
    HashRing r = HashRing.of(FIVE, V, 3);
    // inside one vnode arc: exactly that arc's preference list
    TokenRange arc = new TokenRange(r.tokenAt(9), r.tokenAt(10));
    assertEquals(r.preferenceList(r.tokenAt(10)), r.replicasFor(arc));
    // a range over several arcs: the union, starting with the first arc's list
    TokenRange wide = new TokenRange(r.tokenAt(9), r.tokenAt(14));
    List<String> expected = new ArrayList<>();
    for (int i = 10; i <= 14; i++) {
      for (String m : r.preferenceList(r.tokenAt(i))) {
        if (!expected.contains(m)) {
          expected.add(m);
        }
      }
    }
    assertEquals(expected, r.replicasFor(wide));
    assertEquals(new HashSet<>(FIVE), new HashSet<>(r.replicasFor(TokenRange.full())));
  }

  private static List<String> bruteForcePreference(HashRing r, long token, int n) {
    int start = 0;
    while (start < r.size() && r.tokenAt(start) < token) {
      start++;
    }
    List<String> list = new ArrayList<>();
    for (int step = 0; step < r.size() && list.size() < Math.min(n, r.members().size()); step++) {
      String owner = r.ownerAt((start + step) % r.size());
      if (!list.contains(owner)) {
        list.add(owner);
      }
    }
    return list;
  }
}
