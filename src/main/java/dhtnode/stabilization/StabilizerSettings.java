package dhtnode.stabilization;

import com.typesafe.config.Config;
import dhtnode.common.ConfigValues;
import dhtnode.common.SettingsException;
import java.time.Duration;

/**
 * The typed, validated view of {@code dht.stabilization { }}: how the Stabilizer batches, how deep
 * its Merkle trees are, how long it waits for each step and how many sessions it runs at once. A
 * missing or out-of-range value throws {@link SettingsException} with one line naming the key.
 * Defaults and their meaning live in {@code reference.conf}.
 */
public final class StabilizerSettings {

  /** Entries per scan, per streamed batch and per pushed batch. */
  public final int batchSize;
  /** Key and value bytes per batch sent to a peer (at least one entry); keep below the frame size. */
  public final long maxBatchBytes;
  /** Depth of the Merkle trees compared by anti-entropy: 2^depth leaves per range. */
  public final int merkleDepth;
  /** Longest wait for any single step: one scan, one batch from a source, one applied batch. */
  public final Duration stepTimeout;
  /** Longest wait for a peer's whole Merkle tree, which takes a full scan of the range. */
  public final Duration treeTimeout;
  /** Repair and fetch sessions running at once; further ones wait in a queue. */
  public final int maxConcurrentSessions;

  private StabilizerSettings(
      int batchSize, long maxBatchBytes, int merkleDepth, Duration stepTimeout, Duration treeTimeout, int maxConcurrentSessions) {
    this.batchSize = check("dht.stabilization.batch-size", batchSize, 1, 100_000);
    this.maxBatchBytes = check("dht.stabilization.max-batch-bytes", maxBatchBytes, 1024, 64L << 20);
    this.merkleDepth = check("dht.stabilization.merkle-depth", merkleDepth, 0, 20);
    this.stepTimeout = check("dht.stabilization.step-timeout", stepTimeout);
    this.treeTimeout = check("dht.stabilization.tree-timeout", treeTimeout);
    this.maxConcurrentSessions =
        check("dht.stabilization.max-concurrent-sessions", maxConcurrentSessions, 1, 1024);
  }

  /** Validated settings from explicit values (tests, embedding); same rules as {@link #from}. */
  public static StabilizerSettings of(int batchSize, long maxBatchBytes, int merkleDepth, Duration stepTimeout,
      Duration treeTimeout, int maxConcurrentSessions) {
    return new StabilizerSettings(batchSize, maxBatchBytes, merkleDepth, stepTimeout, treeTimeout, maxConcurrentSessions);
  }

  /** Reads {@code dht.stabilization.*} from the node's config. */
  public static StabilizerSettings from(Config c) {
    return new StabilizerSettings(
        ConfigValues.get("dht.stabilization.batch-size", () -> c.getInt("dht.stabilization.batch-size")),
        ConfigValues.get("dht.stabilization.max-batch-bytes", () -> c.getBytes("dht.stabilization.max-batch-bytes")),
        ConfigValues.get("dht.stabilization.merkle-depth", () -> c.getInt("dht.stabilization.merkle-depth")),
        ConfigValues.get("dht.stabilization.step-timeout", () -> c.getDuration("dht.stabilization.step-timeout")),
        ConfigValues.get("dht.stabilization.tree-timeout", () -> c.getDuration("dht.stabilization.tree-timeout")),
        ConfigValues.get("dht.stabilization.max-concurrent-sessions",
            () -> c.getInt("dht.stabilization.max-concurrent-sessions")));
  }

  private static int check(String key, int v, int min, int max) {
    if (v < min || v > max) {
      throw new SettingsException(key + " must be between " + min + " and " + max + ", was " + v);
    }
    return v;
  }

  private static long check(String key, long v, long min, long max) {
    if (v < min || v > max) {
      throw new SettingsException(key + " must be between " + min + " and " + max + " bytes, was " + v);
    }
    return v;
  }

  private static Duration check(String key, Duration v) {
    if (v == null || v.compareTo(Duration.ofMillis(10)) < 0 || v.compareTo(Duration.ofHours(1)) > 0) {
      throw new SettingsException(key + " must be between 10ms and 1h, was " + (v == null ? "null" : v.toMillis() + "ms"));
    }
    return v;
  }

  @Override
  public String toString() {
    return "StabilizerSettings(batch " + batchSize + " / " + maxBatchBytes + " B, depth " + merkleDepth + ", step " + stepTimeout.toMillis()
        + "ms, tree " + treeTimeout.toMillis() + "ms, sessions " + maxConcurrentSessions + ")";
  }
}
