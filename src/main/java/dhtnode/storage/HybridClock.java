package dhtnode.storage;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock (Kulkarni et al., 2014) packed in one long: wall-clock milliseconds in the
 * upper 48 bits, a logical counter in the lower 16. {@link #tryNow()} is strictly increasing on
 * this node, and after {@link #observe(long)} of a remote timestamp every later timestamp is above
 * it, so causally later events get higher timestamps even across skewed clocks. Thread-safe.
 *
 * <p>A <em>reserving</em> clock ({@link #reserving}) also keeps versions unique across restarts: it
 * issues no timestamp above its reservation, a high-water mark that its owner writes durably (see
 * {@code replication.ClockKeeper}) before raising it with {@link #reserved(long)}, and a restarted
 * node {@link #restore restores} the last one it wrote. Every timestamp of an earlier run is at
 * most that mark, and every timestamp of the new run is above it, whatever the wall clock did in
 * between (stepped back, frozen, or a peer had pushed this clock far ahead of it). The owner keeps
 * the reservation ahead of both the wall clock and the highest timestamp seen by {@code
 * reserve-ahead}, so in the common case no stamp ever waits for it.
 */
public final class HybridClock {
  private static final int LOGICAL_BITS = 16;

  /** What {@link #tryNow()} answers when the next timestamp would pass the reservation. */
  public static final long NOT_RESERVED = -1;

  private final LongSupplier wallMillis;

  /** How far ahead a reservation reaches, in timestamp units; 0 for a clock that needs none. */
  private final long ahead;

  /** The highest timestamp issued or observed. */
  private final AtomicLong last = new AtomicLong();

  /** The highest timestamp that may be issued: durable before it is set here. */
  private final AtomicLong reservedUpTo;

  /** A clock on the system's wall clock that persists nothing (for tests and in-memory nodes). */
  public HybridClock() {
    this(System::currentTimeMillis);
  }

  /** A clock on {@code wallMillis} that persists nothing: every timestamp may be issued. */
  public HybridClock(LongSupplier wallMillis) {
    this.wallMillis = wallMillis;
    this.ahead = 0;
    this.reservedUpTo = new AtomicLong(Long.MAX_VALUE);
  }

  private HybridClock(LongSupplier wallMillis, Duration reserveAhead) {
    if (reserveAhead.toMillis() < 1) {
      throw new IllegalArgumentException(
          "reserve-ahead must be at least 1 ms, was " + reserveAhead);
    }
    this.wallMillis = wallMillis;
    this.ahead = timestampAt(reserveAhead.toMillis());
    this.reservedUpTo = new AtomicLong(Long.MIN_VALUE); // nothing until the first reservation
  }

  /**
   * A clock that issues timestamps only up to what its owner has reserved durably; nothing before
   * the first {@link #reserved(long)}. Restore the previous run's reservation first.
   */
  public static HybridClock reserving(LongSupplier wallMillis, Duration reserveAhead) {
    return new HybridClock(wallMillis, reserveAhead);
  }

  /** The smallest timestamp this clock gives at wall-clock time {@code epochMillis}. */
  public static long timestampAt(long epochMillis) {
    return epochMillis << LOGICAL_BITS;
  }

  /** The wall-clock milliseconds of a timestamp. */
  public static long millisOf(long timestamp) {
    return timestamp >> LOGICAL_BITS;
  }

  /** The wall clock this clock reads, in epoch milliseconds. */
  public long wallMillis() {
    return wallMillis.getAsLong();
  }

  /**
   * A timestamp above every one this clock has issued or observed, or {@link #NOT_RESERVED} when
   * that would pass the reservation (then ask the owner to reserve further, and try again).
   */
  public long tryNow() {
    long physical = timestampAt(wallMillis.getAsLong());
    while (true) {
      long prev = last.get();
      long next = Math.max(physical, prev + 1);
      if (next > reservedUpTo.get()) {
        return NOT_RESERVED;
      }
      if (last.compareAndSet(prev, next)) {
        return next;
      }
    }
  }

  /** Merges a timestamp seen from another node, so that later local events order after it. */
  public void observe(long remote) {
    last.accumulateAndGet(remote, Math::max);
  }

  /**
   * Starts above a previous run of this node: {@code reservation} is the last reservation it wrote,
   * at or above every timestamp it issued. Call before the first {@link #reserved}.
   */
  public void restore(long reservation) {
    observe(reservation);
  }

  /** The current reservation; {@link Long#MAX_VALUE} for a clock that persists nothing. */
  public long reservation() {
    return reservedUpTo.get();
  }

  /** Whether this clock issues timestamps only within a reservation. */
  public boolean isReserving() {
    return ahead > 0;
  }

  /**
   * The reservation to write next: {@code reserve-ahead} beyond the later of the wall clock and the
   * highest timestamp issued or observed.
   */
  public long nextReservation() {
    return Math.max(timestampAt(wallMillis.getAsLong()), last.get()) + ahead;
  }

  /**
   * Whether the reservation should be extended now: less than half of {@code reserve-ahead} is left
   * before the wall clock or the highest timestamp seen reaches it (or a stamp already waits for
   * it).
   */
  public boolean reservationDue() {
    if (!isReserving()) {
      return false;
    }
    long front = Math.max(timestampAt(wallMillis.getAsLong()), last.get() + 1);
    return reservedUpTo.get()
        < front + ahead / 2; // (no subtraction: the first reservation is MIN_VALUE)
  }

  /** {@code upTo} is now durable: timestamps up to it may be issued. Never lowers it. */
  public void reserved(long upTo) {
    reservedUpTo.accumulateAndGet(upTo, Math::max);
  }
}
