package dhtnode.stabilization;

import dhtnode.ring.TokenRange;
import dhtnode.ring.TokenRangeSet;

/**
 * What this node may answer for each token, published by the {@link StabilizationPlanner} and
 * read on every request by the local StorageActor and by the Stabilizer serving its peers:
 * <ul>
 *   <li><em>owned</em>: the ranges this node replicates in its current ring;
 *   <li><em>pending</em> ({@link #contains}): owned but not yet filled, so writes are applied and
 *       answers do not count toward a quorum;
 *   <li><em>foreign</em> ({@link #isForeign}): lost ranges already handed off and deleted here, so
 *       this node neither applies writes there nor answers for them, even to a coordinator (or a
 *       peer's fill) that still uses an older ring.
 * </ul>
 * Volatile references to immutable sets: one writer, lock-free readers.
 */
public final class PendingRanges {
  private volatile TokenRangeSet ranges = TokenRangeSet.empty();
  private volatile TokenRangeSet owned = TokenRangeSet.empty();
  private volatile TokenRangeSet foreign = TokenRangeSet.empty();

  public TokenRangeSet get() {
    return ranges;
  }

  void set(TokenRangeSet next) {
    ranges = next;
  }

  public boolean contains(long token) {
    return ranges.contains(token);
  }

  void setOwned(TokenRangeSet next) {
    owned = next;
  }

  TokenRangeSet foreign() {
    return foreign;
  }

  void setForeign(TokenRangeSet next) {
    foreign = next;
  }

  public boolean isForeign(long token) {
    return foreign.contains(token);
  }

  /** Whether this node replicates all of {@code range} in its current ring and has filled it. */
  public boolean holds(TokenRange range) {
    return owned.containsAll(range) && !ranges.intersects(range);
  }

  /** Whether any of {@code range} was handed off and deleted here. */
  public boolean anyForeign(TokenRange range) {
    return foreign.intersects(range);
  }
}
