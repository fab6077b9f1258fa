package dhtnode.ring;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The current {@link RingSnapshot}, readable from any thread without asking the {@link RingActor}:
 * coordinators and routes call {@link #current()} per request, a volatile read. Only the ring actor
 * writes it (package-private {@link #publish}), so the epoch seen through one view never goes
 * backwards.
 */
public final class RingView {
  private volatile RingSnapshot current;
  private volatile Fills fills = new Fills(0, Set.of(), Set.of());

  /**
   * The fill reports of a transition: the nodes that gain a range in {@code epoch} and those of
   * them that reported FillDone for it. The transition may finish once {@code awaiting()} is empty.
   */
  public record Fills(long epoch, Set<String> gainers, Set<String> reported) {
    public Fills {
      gainers = Set.copyOf(gainers);
      reported = Set.copyOf(reported);
    }

    /** Gainers that have not reported yet, sorted. */
    public Set<String> awaiting() {
      Set<String> out = new TreeSet<>(gainers);
      out.removeAll(reported);
      return out;
    }
  }

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

  /** The fill reports of the current epoch, as the ring actor last published them. */
  public Fills fills() {
    return fills;
  }

  void publishFills(Fills next) {
    fills = next;
  }

  void publish(RingSnapshot next) {
    if (next.epoch() <= current.epoch()) {
      throw new IllegalStateException(
          "ring epoch must grow: " + current.epoch() + " then " + next.epoch());
    }
    current = next;
  }
}
