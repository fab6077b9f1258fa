package dhtnode.replication;

import static dhtnode.common.ConfigValues.bad;
import static dhtnode.common.ConfigValues.durationIn;
import static dhtnode.common.ConfigValues.enumIn;
import static dhtnode.common.ConfigValues.get;
import static dhtnode.common.ConfigValues.intIn;

import com.typesafe.config.Config;
import dhtnode.common.Consistency;
import dhtnode.common.SettingsException;
import java.time.Duration;

/**
 * The validated {@code dht.replication { }}: N, R, W, the default consistency level, whether
 * majority writes may be one round, and how soon a request fenced by a ring epoch is sent again.
 * Refuses R + W &lt;= N, under which a quorum read could miss a quorum write.
 */
public final class ReplicationSettings {
  public final int replicationFactor;
  public final int readQuorum;
  public final int writeQuorum;
  public final Consistency defaultConsistency;
  public final boolean oneRoundWrites;
  public final Duration epochRetryInterval;

  /** Null when off: every read then asks every replica of its read set at once. */
  public final Duration readSpeculation;

  private ReplicationSettings(Config c) {
    replicationFactor = intIn(c, "dht.replication.factor", 1, 16);
    readQuorum = intIn(c, "dht.replication.read-quorum", 1, replicationFactor);
    writeQuorum = intIn(c, "dht.replication.write-quorum", 1, replicationFactor);
    if (readQuorum + writeQuorum <= replicationFactor) {
      throw bad(
          "dht.replication.read-quorum",
          "read-quorum + write-quorum must exceed factor for quorum reads to see quorum writes (R="
              + readQuorum
              + ", W="
              + writeQuorum
              + ", N="
              + replicationFactor
              + ")");
    }
    defaultConsistency =
        enumIn(c, "dht.replication.default-consistency", Consistency.class, "one, quorum or all");
    oneRoundWrites =
        get(
            "dht.replication.one-round-writes",
            () -> c.getBoolean("dht.replication.one-round-writes"));
    epochRetryInterval =
        durationIn(
            c,
            "dht.replication.epoch-retry-interval",
            Duration.ofMillis(1),
            Duration.ofSeconds(10));
    Duration speculation =
        durationIn(c, "dht.replication.read-speculation", Duration.ZERO, Duration.ofSeconds(10));
    readSpeculation = speculation.isZero() ? null : speculation;
  }

  /** Reads and validates; throws {@link SettingsException} naming the first bad key. */
  public static ReplicationSettings from(Config config) {
    return new ReplicationSettings(config);
  }

  /** How many replicas must answer a read ({@code read}) or a write at {@code level}. */
  public int quorumFor(Consistency level, boolean read) {
    return switch (level) {
      case ONE -> 1;
      case QUORUM -> read ? readQuorum : writeQuorum;
      case ALL -> replicationFactor;
    };
  }
}
