package dhtnode.replication;

import dhtnode.NodeSettings;

/**
 * How many replicas must answer: {@code read} for a read (and for the version read that opens a
 * write), {@code write} for a write (and for the holders a read repairs to before it answers).
 */
public record Quorum(int read, int write) {
  public Quorum {
    if (read < 1 || write < 1) {
      throw new IllegalArgumentException("quorum counts must be at least 1, were R=" + read + ", W=" + write);
    }
  }

  /** The counts a consistency level asks for under these settings. */
  public static Quorum of(NodeSettings settings, NodeSettings.Consistency level) {
    return new Quorum(settings.quorumFor(level, true), settings.quorumFor(level, false));
  }

  /** Replicas a key needs before this quorum can ever be met. */
  public int needed() {
    return Math.max(read, write);
  }
}
