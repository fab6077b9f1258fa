package dhtnode.keyspace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable set of tokens made of ranges, such as the ranges a node is pending for. Kept as
 * sorted, merged, closed intervals {@code [lo, hi]} of signed tokens (a wrapping {@link TokenRange}
 * is split at the end of the ring), so {@link #contains} is a binary search and costs nothing on
 * the request path.
 */
public final class TokenRangeSet {
  private static final TokenRangeSet EMPTY = new TokenRangeSet(new long[0], new long[0]);

  private final long[] lo;
  private final long[] hi;

  private TokenRangeSet(long[] lo, long[] hi) {
    this.lo = lo;
    this.hi = hi;
  }

  public static TokenRangeSet empty() {
    return EMPTY;
  }

  /** The union of {@code ranges}, normalized once (not range by range). */
  public static TokenRangeSet of(List<TokenRange> ranges) {
    List<long[]> all = new ArrayList<>(ranges.size() + 1);
    for (TokenRange r : ranges) {
      all.addAll(closed(r));
    }
    return normalize(all);
  }

  public boolean isEmpty() {
    return lo.length == 0;
  }

  public boolean contains(long token) {
    int i = Arrays.binarySearch(lo, token);
    if (i >= 0) {
      return true;
    }
    int before = -i - 2; // last interval starting below the token
    return before >= 0 && token <= hi[before];
  }

  public TokenRangeSet plus(TokenRange range) {
    List<long[]> all = intervals();
    all.addAll(closed(range));
    return normalize(all);
  }

  public TokenRangeSet minus(TokenRange range) {
    List<long[]> out = new ArrayList<>();
    List<long[]> cuts = closed(range);
    for (long[] in : intervals()) {
      List<long[]> pieces = List.of(in);
      for (long[] cut : cuts) {
        List<long[]> next = new ArrayList<>();
        for (long[] p : pieces) {
          if (cut[1] < p[0] || cut[0] > p[1]) {
            next.add(p);
            continue;
          }
          if (cut[0] > p[0]) {
            next.add(new long[] {p[0], cut[0] - 1});
          }
          if (cut[1] < p[1]) {
            next.add(new long[] {cut[1] + 1, p[1]});
          }
        }
        pieces = next;
      }
      out.addAll(pieces);
    }
    return normalize(out);
  }

  /** Whether any token of {@code range} is in the set: a binary search per piece of the range. */
  public boolean intersects(TokenRange range) {
    for (long[] piece : closed(range)) {
      // the first interval ending at or after the piece's start is the only candidate
      int lowIdx = 0;
      int highIdx = hi.length - 1;
      while (lowIdx < highIdx) {
        int mid = (lowIdx + highIdx) >>> 1;
        if (hi[mid] < piece[0]) {
          lowIdx = mid + 1;
        } else {
          highIdx = mid;
        }
      }
      if (lowIdx < hi.length && hi[lowIdx] >= piece[0] && lo[lowIdx] <= piece[1]) {
        return true;
      }
    }
    return false;
  }

  /** Whether every token of {@code range} is in the set. */
  public boolean containsAll(TokenRange range) {
    TokenRangeSet only = empty().plus(range);
    return only.minus(this).isEmpty();
  }

  /** The part of the set inside {@code range}. */
  public TokenRangeSet intersect(TokenRange range) {
    return range.isFull() ? this : minus(new TokenRange(range.end(), range.start()));
  }

  /** The set without every token of {@code other}. */
  public TokenRangeSet minus(TokenRangeSet other) {
    TokenRangeSet s = this;
    for (TokenRange r : other.ranges()) {
      s = s.minus(r);
    }
    return s;
  }

  /** The set as token ranges in ring order ({@code [MIN, x]} comes out as {@code (MAX, x]}). */
  public List<TokenRange> ranges() {
    List<TokenRange> out = new ArrayList<>(lo.length);
    for (int i = 0; i < lo.length; i++) {
      out.add(new TokenRange(lo[i] - 1, hi[i])); // lo = MIN gives start MAX: a range wrapping to x
    }
    return out;
  }

  private List<long[]> intervals() {
    List<long[]> out = new ArrayList<>(lo.length + 2);
    for (int i = 0; i < lo.length; i++) {
      out.add(new long[] {lo[i], hi[i]});
    }
    return out;
  }

  /** A token range as closed intervals of signed tokens. */
  private static List<long[]> closed(TokenRange r) {
    if (r.isFull()) {
      return List.of(new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
    }
    if (!r.wraps()) {
      return List.of(new long[] {r.start() + 1, r.end()});
    }
    List<long[]> out = new ArrayList<>(2);
    if (r.start() != Long.MAX_VALUE) {
      out.add(new long[] {r.start() + 1, Long.MAX_VALUE});
    }
    out.add(new long[] {Long.MIN_VALUE, r.end()});
    return out;
  }

  private static TokenRangeSet normalize(List<long[]> intervals) {
    if (intervals.isEmpty()) {
      return EMPTY;
    }
    intervals.sort((a, b) -> Long.compare(a[0], b[0]));
    List<long[]> merged = new ArrayList<>();
    long[] cur = intervals.get(0).clone();
    for (int i = 1; i < intervals.size(); i++) {
      long[] next = intervals.get(i);
      boolean touches = cur[1] == Long.MAX_VALUE || next[0] <= cur[1] + 1;
      if (touches) {
        cur[1] = Math.max(cur[1], next[1]);
      } else {
        merged.add(cur);
        cur = next.clone();
      }
    }
    merged.add(cur);
    long[] l = new long[merged.size()];
    long[] h = new long[merged.size()];
    for (int i = 0; i < merged.size(); i++) {
      l[i] = merged.get(i)[0];
      h[i] = merged.get(i)[1];
    }
    return new TokenRangeSet(l, h);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenRangeSet s && Arrays.equals(lo, s.lo) && Arrays.equals(hi, s.hi);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(lo) + Arrays.hashCode(hi);
  }

  @Override
  public String toString() {
    return ranges().toString();
  }
}
