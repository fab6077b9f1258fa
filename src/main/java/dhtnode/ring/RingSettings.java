package dhtnode.ring;

import com.typesafe.config.Config;
import dhtnode.ConfigValues;
import dhtnode.SettingsException;

/**
 * The validated {@code dht.ring} settings. Every node of a cluster must use the same values: the
 * ring is derived, not gossiped, so a node with another vnode count would place keys differently.
 */
public final class RingSettings {
  public static final String VNODES = "dht.ring.vnodes";
  static final int MAX_VNODES = 4096;

  /** Virtual nodes (tokens) per member. */
  public final int vnodes;

  private RingSettings(int vnodes) {
    this.vnodes = vnodes;
  }

  /** Reads and validates; throws {@link SettingsException} naming the bad key. */
  public static RingSettings from(Config config) {
    return new RingSettings(ConfigValues.intIn(config, VNODES, 1, MAX_VNODES));
  }
}
