package dhtnode.stabilization;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dhtnode.common.ConfigValues;
import dhtnode.common.SettingsException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The typed, validated view of {@code dht.stabilization { }}: how the Stabilizer batches, how deep
 * its Merkle trees are, how long it waits for each step and how many sessions it runs at once, and
 * how often the planner repairs, retries fills and collects tombstones. A missing or out-of-range
 * value throws {@link SettingsException} with one line naming the key. Defaults and their meaning
 * live in {@code reference.conf}.
 */
public final class StabilizerSettings {
  private static final String PREFIX = "dht.stabilization.";

  /** Entries per scan, per streamed batch and per pushed batch. */
  public final int batchSize;

  /**
   * Key and value bytes per batch sent to a peer (at least one entry); keep below the frame size.
   */
  public final long maxBatchBytes;

  /** Depth of the Merkle trees compared by anti-entropy: 2^depth leaves per range. */
  public final int merkleDepth;

  /** Longest wait for any single step: one scan, one batch from a source, one applied batch. */
  public final Duration stepTimeout;

  /** Longest wait for a peer's whole Merkle tree, which takes a full scan of the range. */
  public final Duration treeTimeout;

  /** Repair and fetch sessions running at once; further ones wait in a queue. */
  public final int maxConcurrentSessions;

  /** How often the ranges this node is primary for are compared with their other replicas. */
  public final Duration antiEntropyInterval;

  /** Wait before retrying a failed fill. */
  public final Duration fillRetryInterval;

  /** Age after which a tombstone every replica holds is purged. */
  public final Duration tombstoneGrace;

  private StabilizerSettings(Config c) {
    batchSize = intIn(c, "batch-size", 1, 100_000);
    maxBatchBytes = ConfigValues.bytesIn(c, PREFIX + "max-batch-bytes", 1024, 64L << 20);
    merkleDepth = intIn(c, "merkle-depth", 0, 20);
    stepTimeout = duration(c, "step-timeout", Duration.ofMillis(10), Duration.ofHours(1));
    treeTimeout = duration(c, "tree-timeout", Duration.ofMillis(10), Duration.ofHours(1));
    maxConcurrentSessions = intIn(c, "max-concurrent-sessions", 1, 1024);
    antiEntropyInterval =
        duration(c, "anti-entropy-interval", Duration.ofSeconds(1), Duration.ofDays(7));
    fillRetryInterval =
        duration(c, "fill-retry-interval", Duration.ofMillis(100), Duration.ofMinutes(10));
    tombstoneGrace = duration(c, "tombstone-grace", Duration.ofSeconds(1), Duration.ofDays(365));
  }

  /**
   * Validated settings from explicit values (tests, embedding), the other keys at their {@code
   * reference.conf} defaults; the same rules as {@link #from}.
   */
  public static StabilizerSettings of(
      int batchSize,
      long maxBatchBytes,
      int merkleDepth,
      Duration stepTimeout,
      Duration treeTimeout,
      int maxConcurrentSessions) {
    Map<String, Object> values = new HashMap<>();
    values.put(PREFIX + "batch-size", batchSize);
    values.put(PREFIX + "max-batch-bytes", maxBatchBytes);
    values.put(PREFIX + "merkle-depth", merkleDepth);
    values.put(PREFIX + "step-timeout", stepTimeout.toMillis() + "ms");
    values.put(PREFIX + "tree-timeout", treeTimeout.toMillis() + "ms");
    values.put(PREFIX + "max-concurrent-sessions", maxConcurrentSessions);
    return from(ConfigFactory.parseMap(values).withFallback(ConfigFactory.defaultReference()));
  }

  /**
   * Reads {@code dht.stabilization.*}; throws {@link SettingsException} naming the first bad key.
   */
  public static StabilizerSettings from(Config c) {
    return new StabilizerSettings(c);
  }

  /** The planner's intervals. */
  public StabilizationPlanner.Timing plannerTiming() {
    return new StabilizationPlanner.Timing(antiEntropyInterval, fillRetryInterval, tombstoneGrace);
  }

  private static int intIn(Config c, String key, int min, int max) {
    return ConfigValues.intIn(c, PREFIX + key, min, max);
  }

  private static Duration duration(Config c, String key, Duration min, Duration max) {
    return ConfigValues.durationIn(c, PREFIX + key, min, max);
  }

  @Override
  public String toString() {
    return "StabilizerSettings(batch "
        + batchSize
        + " / "
        + maxBatchBytes
        + " B, depth "
        + merkleDepth
        + ", step "
        + stepTimeout.toMillis()
        + "ms, tree "
        + treeTimeout.toMillis()
        + "ms, sessions "
        + maxConcurrentSessions
        + ")";
  }
}
