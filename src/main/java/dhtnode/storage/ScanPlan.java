package dhtnode.storage;

import dhtnode.keyspace.TokenRange;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a token range (and an optional resume point) into the contiguous byte intervals of the
 * {@link KeyCodec} layout that an engine scans, in scan order. A wrapping range is two intervals:
 * from its start to the end of the ring, then from the beginning of the ring to its end.
 */
final class ScanPlan {

  /** Keys {@code k} with {@code from <= k < to} in unsigned byte order; null means unbounded. */
  record Interval(byte[] from, byte[] to, boolean skipFrom) {
    boolean below(byte[] key) {
      return to == null || Arrays.compareUnsigned(key, to) < 0;
    }
  }

  private ScanPlan() {}

  static List<Interval> of(TokenRange range, String afterKey) {
    List<Interval> plain = new ArrayList<>(2);
    long start = range.start();
    long end = range.end();
    if (!range.wraps()) {
      plain.add(new Interval(KeyCodec.tokenPrefix(start + 1), upperBound(end), false));
    } else {
      if (start != Long.MAX_VALUE) {
        plain.add(new Interval(KeyCodec.tokenPrefix(start + 1), null, false));
      }
      plain.add(new Interval(null, upperBound(end), false));
    }
    if (afterKey == null) {
      return plain;
    }
    byte[] after = KeyCodec.encode(afterKey);
    long token = KeyCodec.token(after);
    if (!range.contains(token)) {
      throw new IllegalArgumentException("resume key " + afterKey + " is not in " + range);
    }
    for (int i = 0; i < plain.size(); i++) {
      Interval in = plain.get(i);
      boolean inside =
          (in.from() == null || Arrays.compareUnsigned(after, in.from()) >= 0) && in.below(after);
      if (inside) {
        List<Interval> resumed = new ArrayList<>(plain.size() - i);
        resumed.add(new Interval(after, in.to(), true));
        resumed.addAll(plain.subList(i + 1, plain.size()));
        return resumed;
      }
    }
    throw new IllegalStateException("resume key " + afterKey + " fell between scan intervals");
  }

  private static byte[] upperBound(long endInclusive) {
    return endInclusive == Long.MAX_VALUE ? null : KeyCodec.tokenPrefix(endInclusive + 1);
  }
}
