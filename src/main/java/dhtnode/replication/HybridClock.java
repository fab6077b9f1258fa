package dhtnode.replication;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock (Kulkarni et al., 2014) packed in one long: wall-clock milliseconds in the
 * upper 48 bits, a logical counter in the lower 16. {@link #now()} is strictly increasing on this
 * node, and after {@link #observe(long)} of a remote timestamp every later {@code now()} is above
 * it, so causally later events get higher timestamps even across skewed clocks. Thread-safe.
 */
public final class HybridClock {
  private static final int LOGICAL_BITS = 16;

  private final LongSupplier wallMillis;
  private final AtomicLong last = new AtomicLong();

  public HybridClock() {
    this(System::currentTimeMillis);
  }

  public HybridClock(LongSupplier wallMillis) {
    this.wallMillis = wallMillis;
  }

  /** The smallest timestamp this clock gives at wall-clock time {@code epochMillis}. */
  public static long timestampAt(long epochMillis) {
    return epochMillis << LOGICAL_BITS;
  }

  /** A timestamp above every one this clock has issued or observed. */
  public long now() {
    long physical = wallMillis.getAsLong() << LOGICAL_BITS;
    return last.updateAndGet(prev -> Math.max(physical, prev + 1));
  }

  /** Merges a timestamp seen from another node, so that later local events order after it. */
  public void observe(long remote) {
    last.accumulateAndGet(remote, Math::max);
  }
}
