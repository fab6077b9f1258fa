package dhtnode.keyspace;

/**
 * A half-open arc of the token ring, {@code (start, end]}, in signed 64-bit token order. When
 * {@code start >= end} the arc wraps past {@link Long#MAX_VALUE} to {@link Long#MIN_VALUE}; {@code
 * start == end} is the whole ring. This is the unit that handoff and anti-entropy move.
 */
public record TokenRange(long start, long end) {

  /** The whole ring. */
  public static TokenRange full() {
    return new TokenRange(Long.MIN_VALUE, Long.MIN_VALUE);
  }

  public boolean wraps() {
    return start >= end;
  }

  public boolean isFull() {
    return start == end;
  }

  public boolean contains(long token) {
    if (start < end) {
      return token > start && token <= end;
    }
    // wrapping (or full): everything above start, and everything up to end
    return token > start || token <= end;
  }

  @Override
  public String toString() {
    return "(" + start + ", " + end + "]";
  }
}
