package dhtnode.membership;

import com.typesafe.config.Config;
import dhtnode.common.ConfigValues;
import dhtnode.common.SettingsException;
import java.time.Duration;

/**
 * The typed, validated view of {@code dht.membership { }}. Built once at start; a missing or wrong
 * value throws {@link SettingsException} with one line naming the key and what is wrong. Also owns
 * the two SWIM formulas that depend on the cluster size, so they are written down once.
 */
public final class MembershipSettings {
  private static final String PREFIX = "dht.membership.";

  public final Duration protocolPeriod;
  public final Duration pingTimeout;
  public final int indirectProbes;
  public final double suspicionMultiplier;
  public final double retransmitMultiplier;
  public final int maxDatagramSize;
  public final Duration joinRetryInterval;
  public final Duration deadMemberRetention;
  public final double suspicionMaxMultiplier;
  public final int suspicionConfirmations;
  public final int maxLocalHealth;
  public final Duration gossipInterval;
  public final int gossipNodes;
  public final Duration gossipToTheDead;
  public final Duration pushPullInterval;

  private MembershipSettings(Config c) {
    protocolPeriod = duration(c, "protocol-period", Duration.ofMillis(10), Duration.ofMinutes(1));
    pingTimeout = duration(c, "ping-timeout", Duration.ofMillis(1), Duration.ofMinutes(1));
    if (pingTimeout.compareTo(protocolPeriod) >= 0) {
      throw bad(
          "ping-timeout",
          "must be < protocol-period ("
              + protocolPeriod.toMillis()
              + "ms) so indirect probes can answer within the period, was "
              + pingTimeout.toMillis()
              + "ms");
    }
    indirectProbes = intIn(c, "indirect-probes", 0, 16);
    suspicionMultiplier = doubleIn(c, "suspicion-multiplier", 1, 100);
    retransmitMultiplier = doubleIn(c, "retransmit-multiplier", 0.1, 100);
    maxDatagramSize = intIn(c, "max-datagram-size", 512, 65_000);
    joinRetryInterval =
        duration(c, "join-retry-interval", Duration.ofMillis(10), Duration.ofMinutes(10));
    deadMemberRetention =
        duration(c, "dead-member-retention", Duration.ofSeconds(0), Duration.ofDays(30));
    suspicionMaxMultiplier = doubleIn(c, "suspicion-max-multiplier", 1, 100);
    suspicionConfirmations = intIn(c, "suspicion-confirmations", 0, 32);
    maxLocalHealth = intIn(c, "max-local-health", 1, 64);
    gossipInterval = duration(c, "gossip-interval", Duration.ofMillis(10), Duration.ofMinutes(1));
    gossipNodes = intIn(c, "gossip-nodes", 0, 64);
    gossipToTheDead = duration(c, "gossip-to-the-dead", Duration.ZERO, Duration.ofDays(1));
    pushPullInterval = duration(c, "push-pull-interval", Duration.ofSeconds(1), Duration.ofDays(1));
  }

  /**
   * Reads {@code dht.membership} from the full config; throws {@link SettingsException} naming the
   * first bad key.
   */
  public static MembershipSettings from(Config config) {
    return new MembershipSettings(config);
  }

  /** suspicion-multiplier * max(1, log10(n)) * protocol-period, for a cluster of n up members. */
  public Duration suspicionTimeout(int clusterSize) {
    double scale = Math.max(1.0, Math.log10(Math.max(1, clusterSize)));
    return Duration.ofNanos(Math.round(suspicionMultiplier * scale * protocolPeriod.toNanos()));
  }

  /**
   * Lifeguard's dogpile suspicion: the timeout of a suspicion with {@code confirmations}
   * independent accusers beyond the first, in a cluster of {@code clusterSize} up members. It
   * starts at suspicion-max-multiplier times {@link #suspicionTimeout} and falls towards {@link
   * #suspicionTimeout} as confirmations arrive, reaching it at {@link #expectedConfirmations}
   * (log-shaped: the first confirmations count most).
   */
  public Duration suspicionTimeout(int clusterSize, int confirmations) {
    long min = suspicionTimeout(clusterSize).toNanos();
    long max = Math.round(min * suspicionMaxMultiplier);
    int k = expectedConfirmations(clusterSize);
    if (k < 1) {
      return Duration.ofNanos(min);
    }
    double fraction = Math.log(Math.min(confirmations, k) + 1.0) / Math.log(k + 1.0);
    return Duration.ofNanos(Math.max(min, Math.round(max - (max - min) * fraction)));
  }

  /**
   * Confirmations that bring a suspicion down to its minimum: suspicion-confirmations, at most N -
   * 2.
   */
  public int expectedConfirmations(int clusterSize) {
    return Math.max(0, Math.min(suspicionConfirmations, clusterSize - 2));
  }

  /**
   * Push-pull period at {@code clusterSize} members: push-pull-interval up to 32 members, then one
   * more interval per doubling (as memberlist scales it), so the load per member stays flat.
   */
  public Duration pushPullInterval(int clusterSize) {
    double extra = Math.max(0, Math.ceil(Math.log(Math.max(1, clusterSize)) / Math.log(2) - 5));
    return pushPullInterval.multipliedBy(1 + (long) extra);
  }

  /** How many times an update is piggybacked: max(1, ceil(lambda * ceil(log10(n + 1)))). */
  public int retransmitLimit(int clusterSize) {
    return GossipBuffer.retransmitLimit(retransmitMultiplier, clusterSize);
  }

  private static Duration duration(Config c, String key, Duration min, Duration max) {
    return ConfigValues.durationIn(c, PREFIX + key, min, max);
  }

  private static int intIn(Config c, String key, int min, int max) {
    return ConfigValues.intIn(c, PREFIX + key, min, max);
  }

  private static double doubleIn(Config c, String key, double min, double max) {
    return ConfigValues.doubleIn(c, PREFIX + key, min, max);
  }

  private static SettingsException bad(String key, String problem) {
    return ConfigValues.bad(PREFIX + key, problem);
  }
}
