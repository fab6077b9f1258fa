package dhtnode.stabilization;

import dhtnode.ring.TokenRangeSet;

/**
 * The ranges this node is pending for, published by the {@link StabilizationPlanner} and read on
 * every request by the local StorageActor (through {@link #contains}). A volatile reference to an
 * immutable set: one writer, lock-free readers.
 */
public final class PendingRanges {
  private volatile TokenRangeSet ranges = TokenRangeSet.empty();

  public TokenRangeSet get() {
    return ranges;
  }

  void set(TokenRangeSet next) {
    ranges = next;
  }

  public boolean contains(long token) {
    return ranges.contains(token);
  }
}
