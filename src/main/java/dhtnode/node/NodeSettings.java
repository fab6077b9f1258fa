package dhtnode.node;

import static dhtnode.common.ConfigValues.bad;
import static dhtnode.common.ConfigValues.bytesIn;
import static dhtnode.common.ConfigValues.durationIn;
import static dhtnode.common.ConfigValues.get;
import static dhtnode.common.ConfigValues.intIn;
import static dhtnode.common.ConfigValues.string;

import com.typesafe.config.Config;
import dhtnode.common.HostPort;
import dhtnode.membership.MembershipSettings;
import dhtnode.ring.RingSettings;
import dhtnode.stabilization.StabilizerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The typed, validated view of everything under {@code dht { }}. Built once at start; a missing
 * or wrong value throws {@link SettingsException} with one line naming the key and the fix, and
 * the node refuses to start. Defaults and their meaning live in {@code reference.conf}.
 */
public final class NodeSettings {

  public enum Engine { ROCKSDB, MEMORY }

  /** The consistency levels a request may ask for. */
  public enum Consistency { ONE, QUORUM, ALL }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public final String name;
  public final String host;
  public final int httpPort;
  public final int clusterPort;
  public final List<HostPort> seeds;
  public final Path dataDir;

  public final Engine engine;
  public final boolean fsync;
  public final long blockCacheBytes;

  public final long maxValueBytes;
  public final int maxKeyBytes;
  public final Duration requestTimeout;

  public final int replicationFactor;
  public final int readQuorum;
  public final int writeQuorum;
  public final Consistency defaultConsistency;

  public final RingSettings ring;
  public final MembershipSettings membership;
  public final StabilizerSettings stabilizer;
  public final Duration antiEntropyInterval;
  public final Duration fillRetryInterval;
  public final boolean oneRoundWrites;
  public final Duration epochRetryInterval;
  public final Duration tombstoneGrace;
  /** How far ahead of the clock the reservation in the data directory reaches. */
  public final Duration clockReserveAhead;
  /** Fault injection only: added to every wall-clock reading of the hybrid clock and tombstone ages. */
  public final Duration clockOffset;

  private NodeSettings(Config c) {
    name = string(c, "dht.node.name");
    if (!NAME.matcher(name).matches()) {
      throw bad("dht.node.name", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, was \"" + name + "\"");
    }
    host = string(c, "dht.node.host");
    if (host.isBlank()) {
      throw bad("dht.node.host", "must not be empty");
    }
    httpPort = intIn(c, "dht.node.http-port", 1, 65535);
    clusterPort = intIn(c, "dht.node.cluster-port", 1, 65535);
    if (httpPort == clusterPort) {
      throw bad("dht.node.http-port", "must differ from dht.node.cluster-port (" + clusterPort + ")");
    }
    List<HostPort> parsedSeeds = new ArrayList<>();
    for (String s : get("dht.node.seeds", () -> c.getStringList("dht.node.seeds"))) {
      try {
        parsedSeeds.add(HostPort.parse(s));
      } catch (IllegalArgumentException e) {
        throw bad("dht.node.seeds", e.getMessage());
      }
    }
    seeds = List.copyOf(parsedSeeds);
    String dir = string(c, "dht.node.data-dir");
    if (dir.isBlank()) {
      throw bad("dht.node.data-dir", "must not be empty");
    }
    dataDir = Path.of(dir);

    String engineName = string(c, "dht.storage.engine");
    try {
      engine = Engine.valueOf(engineName.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad("dht.storage.engine", "must be rocksdb or memory, was \"" + engineName + "\"");
    }
    fsync = get("dht.storage.fsync", () -> c.getBoolean("dht.storage.fsync"));
    blockCacheBytes = bytesIn(c, "dht.storage.block-cache-size", 1 << 20, 1L << 40);

    maxValueBytes = bytesIn(c, "dht.http.max-value-size", 1, 64L << 20);
    maxKeyBytes = (int) bytesIn(c, "dht.http.max-key-size", 1, 64 << 10);
    requestTimeout = durationIn(c, "dht.http.request-timeout", Duration.ofMillis(10), Duration.ofMinutes(5));

    replicationFactor = intIn(c, "dht.replication.factor", 1, 16);
    readQuorum = intIn(c, "dht.replication.read-quorum", 1, replicationFactor);
    writeQuorum = intIn(c, "dht.replication.write-quorum", 1, replicationFactor);
    if (readQuorum + writeQuorum <= replicationFactor) {
      throw bad("dht.replication.read-quorum",
          "read-quorum + write-quorum must exceed factor for quorum reads to see quorum writes (R="
              + readQuorum + ", W=" + writeQuorum + ", N=" + replicationFactor + ")");
    }
    String level = string(c, "dht.replication.default-consistency");
    try {
      defaultConsistency = Consistency.valueOf(level.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad("dht.replication.default-consistency", "must be one, quorum or all, was \"" + level + "\"");
    }
    oneRoundWrites = get("dht.replication.one-round-writes", () -> c.getBoolean("dht.replication.one-round-writes"));
    ring = RingSettings.from(c);
    membership = MembershipSettings.from(c);
    stabilizer = StabilizerSettings.from(c);
    antiEntropyInterval = durationIn(c, "dht.stabilization.anti-entropy-interval", Duration.ofSeconds(1), Duration.ofDays(7));
    fillRetryInterval = durationIn(c, "dht.stabilization.fill-retry-interval", Duration.ofMillis(100), Duration.ofMinutes(10));
    epochRetryInterval =
        durationIn(c, "dht.replication.epoch-retry-interval", Duration.ofMillis(1), Duration.ofSeconds(10));
    tombstoneGrace = durationIn(c, "dht.stabilization.tombstone-grace", Duration.ofSeconds(1), Duration.ofDays(365));
    clockReserveAhead = durationIn(c, "dht.clock.reserve-ahead", Duration.ofMillis(100), Duration.ofHours(1));
    clockOffset = durationIn(c, "dht.testing.clock-offset", Duration.ofDays(-365), Duration.ofDays(365));
    boolean remoting = c.hasPath("akka.actor.provider") && !c.getString("akka.actor.provider").equals("local");
    long frame = !remoting ? Long.MAX_VALUE
        : get("akka.remote.artery.advanced.maximum-frame-size",
            () -> c.getBytes("akka.remote.artery.advanced.maximum-frame-size"));
    if (maxValueBytes + maxKeyBytes + 4096 > frame) {
      throw bad("dht.http.max-value-size",
          "(" + maxValueBytes + " bytes) plus a key must fit in one remoting frame: raise "
              + "akka.remote.artery.advanced.maximum-frame-size above it (now " + frame + ")");
    }
  }

  /** Reads and validates; throws {@link SettingsException} naming the first bad key. */
  public static NodeSettings from(Config config) {
    return new NodeSettings(config);
  }

  /** The wall clock this node reads for versions and tombstone ages: the system's, plus the offset. */
  public long wallMillis() {
    return System.currentTimeMillis() + clockOffset.toMillis();
  }

  public int quorumFor(Consistency level, boolean read) {
    return switch (level) {
      case ONE -> 1;
      case QUORUM -> read ? readQuorum : writeQuorum;
      case ALL -> replicationFactor;
    };
  }
}
