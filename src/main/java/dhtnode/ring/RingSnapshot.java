package dhtnode.ring;

import dhtnode.keyspace.Ranges;
import dhtnode.keyspace.TokenRange;
import java.util.List;

/**
 * One ring epoch as this node knows it. A stable epoch has one ring ({@code old == next}). A
 * transition from {@code old} to {@code next} takes two epochs before the stable one:
 *
 * <ol>
 *   <li>writes need W acknowledgements from the old replica set <em>and</em> W from the new one,
 *       reads use the old set, and replicas that gain a range fill it from the old set;
 *   <li>once every gainer has filled, reads move to the new set ({@code readsMoved}) while writes
 *       still go to both; once enough old replicas have seen this epoch that no read quorum can
 *       form at an older one, the next stable epoch drops the old ring.
 * </ol>
 *
 * See docs/ring.md for why each step is needed. Epoch 0 is the empty ring a {@link RingView} holds
 * before this node knows any epoch.
 */
public record RingSnapshot(long epoch, HashRing old, HashRing next, boolean readsMoved) {

  /** A stable epoch: reads and writes use {@code ring}. */
  public RingSnapshot(long epoch, HashRing ring) {
    this(epoch, ring, ring, false);
  }

  /** The first step of a transition: writes to both rings, reads from {@code old}. */
  public RingSnapshot(long epoch, HashRing old, HashRing next) {
    this(epoch, old, next, false);
  }

  /** The ring reads use: the old one until the gainers have filled, then the next one. */
  public HashRing ring() {
    return readsMoved ? next : old;
  }

  /** True while a range may be moving: writes go to both rings. */
  public boolean inTransition() {
    return next != old;
  }

  /** True in the first step of a transition, when gainers fill their ranges. */
  public boolean filling() {
    return inTransition() && !readsMoved;
  }

  /** The replicas a read of {@code token} asks. */
  public List<String> readReplicas(long token) {
    return ring().preferenceList(token);
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
    return Ranges.collect(
        HashRing.boundaries(old, next), t -> !old.preferenceList(t).equals(next.preferenceList(t)));
  }

  /**
   * The replica sets a write of {@code token} must each reach W of: one set when stable or when the
   * transition does not move this token, both (the read set first) otherwise.
   */
  public List<List<String>> writeSets(long token) {
    List<String> read = ring().preferenceList(token);
    if (!inTransition()) {
      return List.of(read);
    }
    List<String> other = (readsMoved ? old : next).preferenceList(token);
    return read.equals(other) ? List.of(read) : List.of(read, other);
  }

  /** Whether {@code member} replicates {@code token} on the read or the write side. */
  public boolean holds(String member, long token) {
    return old.preferenceList(token).contains(member)
        || (inTransition() && next.preferenceList(token).contains(member));
  }
}
