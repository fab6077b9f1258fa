package dhtnode.replication;

import dhtnode.common.Consistency;

/**
 * How many replicas must answer: {@code read} for a read (and for the version read that opens a
 * write), {@code write} for a write (and for the holders a read repairs to before it answers).
 * {@code oneRoundWrites}: a write whose W is a majority of the key's replicas may skip the version
 * read (see {@code ReplicaCoordinator} and docs/replication.md).
 */
public record Quorum(int read, int write, boolean oneRoundWrites) {
  public Quorum {
    if (read < 1 || write < 1) {
      throw new IllegalArgumentException(
          "quorum counts must be at least 1, were R=" + read + ", W=" + write);
    }
  }

  /** Writes always in two rounds (version read, then write). */
  public Quorum(int read, int write) {
    this(read, write, false);
  }

  /** The counts a consistency level asks for under these settings. */
  public static Quorum of(ReplicationSettings settings, Consistency level) {
    return new Quorum(
        settings.quorumFor(level, true), settings.quorumFor(level, false), settings.oneRoundWrites);
  }

  /**
   * Whether a write to {@code replicas} replicas may be one round: W write quorums must intersect.
   */
  public boolean oneRoundFor(int replicas) {
    return oneRoundWrites && 2 * write > replicas;
  }

  /** Replicas a key needs before this quorum can ever be met. */
  public int needed() {
    return Math.max(read, write);
  }
}
