package dhtnode.keyspace;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * Range arithmetic over a ring cut at sorted, distinct boundary tokens: segment {@code k} is the
 * arc {@code (b[k-1], b[k]]}, segment 0 the one that wraps. Within a segment no ring that
 * contributed boundaries changes its preference list, so one lookup at the segment's end token
 * speaks for the whole segment.
 */
public final class Ranges {
  private Ranges() {}

  public interface SegmentVisitor {
    void visit(long start, long end);
  }

  /** Visits every segment in ring order; one boundary is the whole ring, none is no ring. */
  public static void forEachSegment(long[] boundaries, SegmentVisitor visitor) {
    int n = boundaries.length;
    for (int k = 0; k < n; k++) {
      visitor.visit(boundaries[(k - 1 + n) % n], boundaries[k]);
    }
  }

  /**
   * The segments whose end token satisfies {@code selected}, adjacent ones merged (across the wrap
   * point too), in ring order; all of them is {@link TokenRange#full()}.
   */
  public static List<TokenRange> collect(long[] boundaries, LongPredicate selected) {
    int n = boundaries.length;
    List<TokenRange> ranges = new ArrayList<>();
    boolean previousSelected = false;
    int selectedCount = 0;
    for (int k = 0; k < n; k++) {
      long start = boundaries[(k - 1 + n) % n];
      long end = boundaries[k];
      if (!selected.test(end)) {
        previousSelected = false;
        continue;
      }
      selectedCount++;
      if (previousSelected) {
        TokenRange last = ranges.remove(ranges.size() - 1);
        ranges.add(new TokenRange(last.start(), end));
      } else {
        ranges.add(new TokenRange(start, end));
      }
      previousSelected = true;
    }
    if (n > 0 && selectedCount == n) {
      return List.of(TokenRange.full());
    }
    // the last range runs into the first one through the wrap point
    if (ranges.size() > 1) {
      TokenRange first = ranges.get(0);
      TokenRange last = ranges.get(ranges.size() - 1);
      if (last.end() == first.start()) {
        ranges.set(0, new TokenRange(last.start(), first.end()));
        ranges.remove(ranges.size() - 1);
      }
    }
    return List.copyOf(ranges);
  }

  /** Whether {@code range} and the arc {@code (start, end]} share a token. */
  public static boolean overlaps(TokenRange range, long start, long end) {
    // two arcs meet iff one contains the other's end: a common stretch ends at one of the ends
    return range.contains(end) || new TokenRange(start, end).contains(range.end());
  }
}
