package dhtnode.common;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.Locale;

/**
 * Reads one validated value from the config, the same way for every settings class: a missing or
 * mistyped key, or a value out of range, becomes a {@link SettingsException} whose one line starts
 * with the full key and says what to change.
 */
public final class ConfigValues {
  private ConfigValues() {}

  /** A read that may throw the config library's exceptions. */
  public interface Read<T> {
    T get();
  }

  public static <T> T get(String key, Read<T> read) {
    try {
      return read.get();
    } catch (ConfigException.Missing e) {
      throw bad(key, "is missing; set it in the node's config file");
    } catch (ConfigException e) {
      throw bad(key, e.getMessage());
    }
  }

  public static String string(Config c, String key) {
    return get(key, () -> c.getString(key));
  }

  public static int intIn(Config c, String key, int min, int max) {
    int v = get(key, () -> c.getInt(key));
    if (v < min || v > max) {
      throw bad(key, "must be between " + min + " and " + max + ", was " + v);
    }
    return v;
  }

  public static double doubleIn(Config c, String key, double min, double max) {
    double v = get(key, () -> c.getDouble(key));
    if (!(v >= min && v <= max)) {
      throw bad(key, "must be between " + min + " and " + max + ", was " + v);
    }
    return v;
  }

  public static long bytesIn(Config c, String key, long min, long max) {
    long v = get(key, () -> c.getBytes(key));
    if (v < min || v > max) {
      throw bad(key, "must be between " + min + " and " + max + " bytes, was " + v);
    }
    return v;
  }

  public static Duration durationIn(Config c, String key, Duration min, Duration max) {
    Duration v = get(key, () -> c.getDuration(key));
    if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
      throw bad(
          key,
          "must be between "
              + min.toMillis()
              + "ms and "
              + max.toMillis()
              + "ms, was "
              + v.toMillis()
              + "ms");
    }
    return v;
  }

  /**
   * The constant of {@code type} the key names, in any case; {@code choices} lists them for the
   * message.
   */
  public static <E extends Enum<E>> E enumIn(Config c, String key, Class<E> type, String choices) {
    String v = string(c, key);
    try {
      return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad(key, "must be " + choices + ", was \"" + v + "\"");
    }
  }

  public static SettingsException bad(String key, String problem) {
    return new SettingsException(key + " " + problem);
  }
}
