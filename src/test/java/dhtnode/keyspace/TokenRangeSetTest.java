package dhtnode.keyspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenRangeSetTest {

  @Test
  void plusThenMinusFollowsSetSemanticsAtTheBoundaries() {
    TokenRange a = new TokenRange(10, 20);
    TokenRangeSet s = TokenRangeSet.empty().plus(a);
    assertFalse(s.contains(10), "start is exclusive");
    assertTrue(s.contains(11));
    assertTrue(s.contains(20), "end is inclusive");
    assertFalse(s.contains(21));
    TokenRangeSet cut = s.minus(new TokenRange(12, 15));
    assertTrue(cut.contains(12));
    assertFalse(cut.contains(13));
    assertFalse(cut.contains(15));
    assertTrue(cut.contains(16));
    assertEquals(List.of(new TokenRange(10, 12), new TokenRange(15, 20)), cut.ranges());
  }

  @Test
  void theFullRingAndWrappingRangesRoundTrip() {
    TokenRangeSet all = TokenRangeSet.empty().plus(TokenRange.full());
    assertTrue(all.contains(Long.MIN_VALUE) && all.contains(Long.MAX_VALUE) && all.contains(0));
    assertTrue(all.minus(TokenRange.full()).isEmpty());
    TokenRange wrap = new TokenRange(Long.MAX_VALUE - 5, Long.MIN_VALUE + 5);
    TokenRangeSet w = TokenRangeSet.empty().plus(wrap);
    assertTrue(
        w.contains(Long.MAX_VALUE) && w.contains(Long.MIN_VALUE) && w.contains(Long.MIN_VALUE + 5));
    assertFalse(w.contains(Long.MAX_VALUE - 5) || w.contains(Long.MIN_VALUE + 6) || w.contains(0));
    assertTrue(w.containsAll(wrap));
    assertFalse(w.containsAll(new TokenRange(0, 1)));
    assertEquals(w, TokenRangeSet.of(w.ranges()), "ranges() describe the same set");
  }

  @Test
  void adjacentRangesMerge() {
    TokenRangeSet s =
        TokenRangeSet.empty().plus(new TokenRange(0, 10)).plus(new TokenRange(10, 20));
    assertEquals(List.of(new TokenRange(0, 20)), s.ranges());
  }

  @Test
  void randomOperationsMatchABruteForceModel() {
    Random random = new Random(7);
    long[] probes = new long[500];
    for (int i = 0; i < probes.length; i++) {
      probes[i] = random.nextLong();
    }
    for (int round = 0; round < 100; round++) {
      TokenRangeSet set = TokenRangeSet.empty();
      boolean[] model = new boolean[probes.length];
      for (int op = 0; op < 8; op++) {
        TokenRange r =
            random.nextInt(10) == 0
                ? TokenRange.full()
                : new TokenRange(random.nextLong(), random.nextLong());
        boolean add = random.nextBoolean();
        set = add ? set.plus(r) : set.minus(r);
        for (int i = 0; i < probes.length; i++) {
          if (r.contains(probes[i])) {
            model[i] = add;
          }
        }
        for (int i = 0; i < probes.length; i++) {
          assertEquals(model[i], set.contains(probes[i]), "round " + round + " op " + op);
        }
        // intersects agrees with the set's own ranges and with a single-token range per probe
        for (int i = 0; i < probes.length; i++) {
          TokenRange single = new TokenRange(probes[i] - 1, probes[i]);
          assertEquals(
              model[i], set.intersects(single), "intersects, round " + round + " op " + op);
        }
        assertEquals(set, TokenRangeSet.of(set.ranges()), "of() rebuilds the same set in one pass");
      }
    }
  }
}
