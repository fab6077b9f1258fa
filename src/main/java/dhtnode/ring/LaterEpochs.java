package dhtnode.ring;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers the highest epoch seen, so that a burst of requests fenced by the same later epoch is
 * handed on once, not once per request. Thread-safe: request handlers call it concurrently.
 */
public final class LaterEpochs {
  private final AtomicLong highest = new AtomicLong();

  /** Whether {@code epoch} is later than every epoch seen before; it is remembered either way. */
  public boolean isNew(long epoch) {
    return highest.getAndAccumulate(epoch, Math::max) < epoch;
  }
}
