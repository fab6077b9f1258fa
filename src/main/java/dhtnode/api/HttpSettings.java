package dhtnode.api;

import static dhtnode.common.ConfigValues.bad;
import static dhtnode.common.ConfigValues.bytesIn;
import static dhtnode.common.ConfigValues.durationIn;
import static dhtnode.common.ConfigValues.get;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.settings.ParserSettings;
import akka.http.javadsl.settings.ServerSettings;
import com.typesafe.config.Config;
import dhtnode.common.SettingsException;
import java.time.Duration;

/**
 * The validated {@code dht.http { }}: how large a key and a value may be and how long a request may
 * take. A value travels to remote replicas in one Artery frame, so the largest value plus a key
 * must fit in {@code akka.remote.artery.advanced.maximum-frame-size} when remoting is on.
 */
public final class HttpSettings {
  public final long maxValueBytes;
  public final int maxKeyBytes;
  public final Duration requestTimeout;

  private HttpSettings(Config c) {
    maxValueBytes = bytesIn(c, "dht.http.max-value-size", 1, 64L << 20);
    maxKeyBytes = (int) bytesIn(c, "dht.http.max-key-size", 1, 64 << 10);
    requestTimeout =
        durationIn(c, "dht.http.request-timeout", Duration.ofMillis(10), Duration.ofMinutes(5));
    boolean remoting =
        c.hasPath("akka.actor.provider") && !c.getString("akka.actor.provider").equals("local");
    long frame =
        !remoting
            ? Long.MAX_VALUE
            : get(
                "akka.remote.artery.advanced.maximum-frame-size",
                () -> c.getBytes("akka.remote.artery.advanced.maximum-frame-size"));
    if (maxValueBytes + maxKeyBytes + 4096 > frame) {
      throw bad(
          "dht.http.max-value-size",
          "("
              + maxValueBytes
              + " bytes) plus a key must fit in one remoting frame: raise "
              + "akka.remote.artery.advanced.maximum-frame-size above it (now "
              + frame
              + ")");
    }
  }

  /** Reads and validates; throws {@link SettingsException} naming the first bad key. */
  public static HttpSettings from(Config config) {
    return new HttpSettings(config);
  }

  /**
   * The HTTP server's settings: parser limits follow these limits, so oversized input is refused
   * early.
   */
  public ServerSettings serverSettings(ActorSystem<?> system) {
    ServerSettings defaults = ServerSettings.create(system.classicSystem());
    ParserSettings parser =
        defaults
            .getParserSettings()
            // a backstop only: the write route enforces max-value-size itself, so that an
            // oversized value gets a clear 413 rather than a parser error
            .withMaxContentLength(maxValueBytes + (64 << 10))
            // percent-encoding can triple a key's length; leave room for the prefix and query
            .withMaxUriLength(maxKeyBytes * 3 + 256);
    return defaults
        .withParserSettings(parser)
        // keys are decoded from the URI exactly as sent (see KeyPath.rawKeyPath)
        .withRawRequestUriHeader(true)
        .withParsingErrorHandler(JsonParsingErrorHandler.class.getName());
  }
}
