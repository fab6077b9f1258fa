package dhtnode.ring;

import java.util.List;

/**
 * One ring epoch as this node knows it: the epoch number, the ring that serves reads
 * ({@link #ring()}), and the ring a transition is moving to ({@link #next()}). When the epoch is
 * stable the two are the same object. While an epoch moves a range from an old replica set to a
 * new one, writes need W acknowledgements from the old set <em>and</em> W from the new set
 * ({@link #writeSets}), reads use the old set, and replicas that gain a range fill it from the
 * old set before a later epoch makes the new ring the read ring.
 *
 * <p>Epoch 0 is the empty ring a {@link RingView} holds before this node knows any epoch.
 */
public record RingSnapshot(long epoch, HashRing ring, HashRing next) {

  /** A stable epoch: reads and writes use {@code ring}. */
  public RingSnapshot(long epoch, HashRing ring) {
    this(epoch, ring, ring);
  }

  /** True while a range may be moving: writes go to both rings, reads to {@link #ring()}. */
  public boolean inTransition() {
    return next != ring;
  }

  /** The replicas a read of {@code token} asks: the old set during a transition. */
  public List<String> readReplicas(long token) {
    return ring.preferenceList(token);
  }

  /**
   * The token ranges whose replica set the transition changes (adjacent ones merged): empty when
   * stable. Computed on each call (one lookup per ring segment, about a millisecond for 8 x 256
   * vnodes): callers cache it per snapshot.
   */
  public List<TokenRange> rangesInTransition() {
    if (!inTransition()) {
      return List.of();
    }
    return Ranges.collect(HashRing.boundaries(ring, next),
        t -> !ring.preferenceList(t).equals(next.preferenceList(t)));
  }

  /**
   * The replica sets a write of {@code token} must each reach W of: one set when stable or
   * when the transition does not move this token, both (old first) otherwise.
   */
  public List<List<String>> writeSets(long token) {
    List<String> old = ring.preferenceList(token);
    if (!inTransition()) {
      return List.of(old);
    }
    List<String> moved = next.preferenceList(token);
    return old.equals(moved) ? List.of(old) : List.of(old, moved);
  }
}
