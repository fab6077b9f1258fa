package dhtnode.ring;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
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
    int vnodes;
    try {
      vnodes = config.getInt(VNODES);
    } catch (ConfigException.Missing e) {
      throw new SettingsException(VNODES + " is missing; set it in the node's config file");
    } catch (ConfigException e) {
      throw new SettingsException(VNODES + " " + e.getMessage());
    }
    if (vnodes < 1 || vnodes > MAX_VNODES) {
      throw new SettingsException(
          VNODES + " must be between 1 and " + MAX_VNODES + ", was " + vnodes);
    }
    return new RingSettings(vnodes);
  }
}
