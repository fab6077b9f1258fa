package dhtnode.node;

import static dhtnode.common.ConfigValues.durationIn;

import com.typesafe.config.Config;
import dhtnode.api.HttpSettings;
import dhtnode.common.NodeIdentity;
import dhtnode.common.SettingsException;
import dhtnode.membership.MembershipSettings;
import dhtnode.replication.ReplicationSettings;
import dhtnode.ring.RingSettings;
import dhtnode.stabilization.StabilizerSettings;
import dhtnode.storage.StorageSettings;
import java.time.Duration;

/**
 * The typed, validated view of everything under {@code dht { }}, composed of each layer's own
 * settings: who this node is ({@link NodeIdentity}), its storage, HTTP limits, replication, ring,
 * membership and stabilization, plus the clock the node wires up. Built once at start; a missing or
 * wrong value throws {@link SettingsException} with one line naming the key and the fix, and the
 * node refuses to start. Defaults and their meaning live in {@code reference.conf}.
 */
public final class NodeSettings {

  public final NodeIdentity identity;

  /** This node's name, the same as {@code identity.name()}. */
  public final String name;

  public final StorageSettings storage;
  public final HttpSettings http;
  public final ReplicationSettings replication;
  public final RingSettings ring;
  public final MembershipSettings membership;
  public final StabilizerSettings stabilizer;

  /** How far ahead of the clock the reservation in the data directory reaches. */
  public final Duration clockReserveAhead;

  /**
   * Fault injection only: added to every wall-clock reading of the hybrid clock and tombstone ages.
   */
  public final Duration clockOffset;

  private NodeSettings(Config c) {
    identity = NodeIdentity.from(c);
    name = identity.name();
    storage = StorageSettings.from(c);
    http = HttpSettings.from(c);
    replication = ReplicationSettings.from(c);
    ring = RingSettings.from(c);
    membership = MembershipSettings.from(c);
    stabilizer = StabilizerSettings.from(c);
    clockReserveAhead =
        durationIn(c, "dht.clock.reserve-ahead", Duration.ofMillis(100), Duration.ofHours(1));
    clockOffset =
        durationIn(c, "dht.testing.clock-offset", Duration.ofDays(-365), Duration.ofDays(365));
  }

  /** Reads and validates; throws {@link SettingsException} naming the first bad key. */
  public static NodeSettings from(Config config) {
    return new NodeSettings(config);
  }

  /**
   * The wall clock this node reads for versions and tombstone ages: the system's, plus the offset.
   */
  public long wallMillis() {
    return System.currentTimeMillis() + clockOffset.toMillis();
  }
}
