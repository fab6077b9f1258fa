package dhtnode.api;

import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.IllegalUriException;
import dhtnode.common.Consistency;
import java.util.Locale;
import java.util.regex.Pattern;
import org.slf4j.Logger;

/**
 * The optional access log: one DEBUG line per request on the logger {@value #LOGGER}, as {@code PUT
 * /d/greeting 200 1.84ms consistency=quorum} (method, raw path, status, duration from routing to
 * the response, and for {@code /d/} the consistency level asked for or the default; {@code -} for
 * other paths). Off unless that logger is at DEBUG (logback.xml: {@code DHT_ACCESS_LOG=DEBUG}); the
 * level is read when the routes are built, so a node without it pays nothing per request.
 */
final class AccessLog extends AllDirectives {
  /** The access log's logger name. */
  static final String LOGGER = "dhtnode.access";

  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  private final Logger log;
  private final Consistency defaultLevel;

  AccessLog(Logger log, Consistency defaultLevel) {
    this.log = log;
    this.defaultLevel = defaultLevel;
  }

  /** {@code route} logging each answer, or {@code route} itself when the log is off. */
  Route around(Route route) {
    if (!log.isDebugEnabled()) {
      return route;
    }
    return extractRequest(
        request -> {
          long start = System.nanoTime();
          return mapResponse(
              response -> {
                log.debug(line(request, response.status().intValue(), System.nanoTime() - start));
                return response;
              },
              () -> route);
        });
  }

  String line(HttpRequest request, int status, long nanos) {
    String raw = KeyPath.rawPathAfter(request, "").orElse("");
    String path = raw.isEmpty() ? request.getUri().path() : raw;
    String consistency = "-";
    if (KeyPath.rawDataPath(request).isPresent()) {
      try {
        consistency =
            request
                .getUri()
                .query()
                .get("consistency")
                .orElse(defaultLevel.name().toLowerCase(Locale.ROOT));
      } catch (IllegalUriException e) {
        consistency = "?";
      }
    }
    return String.format(
        Locale.ROOT,
        "%s %s %d %.2fms consistency=%s",
        request.method().value(),
        printable(path),
        status,
        nanos / 1e6,
        printable(consistency));
  }

  /** What a client sent, decoded, could hold a line break: one request stays one line. */
  private static String printable(String clientText) {
    return CONTROL.matcher(clientText).replaceAll("?");
  }
}
