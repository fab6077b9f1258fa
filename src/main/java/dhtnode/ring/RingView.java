package dhtnode.ring;

import java.util.List;

/**
 * The current {@link RingSnapshot}, readable from any thread without asking the
 * {@link RingActor}: coordinators and routes call {@link #current()} per request, a volatile
 * read. Only the ring actor writes it (package-private {@link #publish}), so the epoch seen
 * through one view never goes backwards.
 */
public final class RingView {
  private volatile RingSnapshot current;

  /** Holds epoch 0, an empty ring with these settings, until the ring actor publishes. */
  public RingView(RingSettings settings, int replicationFactor) {
    this.current = new RingSnapshot(0, HashRing.of(List.of(), settings.vnodes, replicationFactor));
  }

  public RingSnapshot current() {
    return current;
  }

  /** Shorthand for {@code current().ring()}. */
  public HashRing ring() {
    return current.ring();
  }

  void publish(RingSnapshot next) {
    if (next.epoch() <= current.epoch()) {
      throw new IllegalStateException(
          "ring epoch must grow: " + current.epoch() + " then " + next.epoch());
    }
    current = next;
  }
}
