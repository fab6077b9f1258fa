package dhtnode.ring;

import static dhtnode.common.ConfigValues.durationIn;
import static dhtnode.common.ConfigValues.get;

import com.typesafe.config.Config;
import dhtnode.common.ConfigValues;
import dhtnode.common.SettingsException;
import java.time.Duration;

/**
 * The validated {@code dht.ring} settings. Every node of a cluster must use the same vnode count:
 * the ring is derived from the agreed member names, not gossiped, so a node with another count
 * would place keys differently.
 */
public final class RingSettings {
  public static final String VNODES = "dht.ring.vnodes";
  static final int MAX_VNODES = 4096;

  /** The ring agreement's logical tick: timeouts and periods are counted in these. */
  public static final Duration TICK = Duration.ofMillis(100);

  /** Virtual nodes (tokens) per member. */
  public final int vnodes;

  /** How long a member must be DEAD or LEFT, without a break, before its removal is proposed. */
  public final Duration removalDelay;

  /** How often a random peer is asked whether a later epoch was committed. */
  public final Duration catchUpInterval;

  /** How long one Paxos ballot may wait for a majority before it is retried with a higher one. */
  public final Duration proposalTimeout;

  /** Whether a node with no ring state founds a new cluster (epoch 1 = itself). */
  public final boolean foundCluster;

  /**
   * R of quorum reads ({@code dht.replication.read-quorum}): a transition drops its old replicas
   * only once too few of each old replica set are left at older epochs to form a read quorum.
   */
  public final int readQuorum;

  private RingSettings(Config c) {
    vnodes = ConfigValues.intIn(c, VNODES, 1, MAX_VNODES);
    removalDelay = durationIn(c, "dht.ring.removal-delay", Duration.ZERO, Duration.ofDays(7));
    catchUpInterval = durationIn(c, "dht.ring.catch-up-interval", TICK, Duration.ofMinutes(10));
    proposalTimeout = durationIn(c, "dht.ring.proposal-timeout", TICK, Duration.ofMinutes(1));
    foundCluster = get("dht.ring.found-cluster", () -> c.getBoolean("dht.ring.found-cluster"));
    readQuorum = ConfigValues.intIn(c, "dht.replication.read-quorum", 1, 1000);
  }

  /** Reads and validates; throws {@link SettingsException} naming the bad key. */
  public static RingSettings from(Config config) {
    return new RingSettings(config);
  }

  /** {@code d} in whole ticks, at least one. */
  public static int ticks(Duration d) {
    return (int) Math.max(1, (d.toMillis() + TICK.toMillis() - 1) / TICK.toMillis());
  }

  /** The agreement's timing: retries back off up to one proposal timeout. */
  public RingAgreement.Timing timing() {
    return new RingAgreement.Timing(
        ticks(proposalTimeout), ticks(proposalTimeout), ticks(catchUpInterval));
  }
}
