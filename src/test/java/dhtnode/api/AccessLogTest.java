package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.ServerBinding;
import dhtnode.node.NodeSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * The access log over a real binding: one line per request with method, raw path, status, duration
 * and consistency, rejections included; nothing at all when its logger is not at DEBUG.
 */
class AccessLogTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final HttpClient client = HttpClient.newHttpClient();
  static final NodeSettings settings = RouteTesting.oneNodeSettings();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A logger that keeps what it is given, at DEBUG or not. */
  static final class Recorder extends LegacyAbstractLogger {
    final boolean debug;
    final Queue<String> lines = new ConcurrentLinkedQueue<>();

    Recorder(boolean debug) {
      this.debug = debug;
      this.name = AccessLog.LOGGER;
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return debug;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String pattern, Object[] args, Throwable throwable) {
      lines.add(level + " " + MessageFormatter.basicArrayFormat(pattern, args));
    }
  }

  private static List<Integer> sendAll(Recorder log, String... requests) throws Exception {
    ServerBinding binding =
        RouteTesting.bind(
            testKit,
            settings,
            RouteTesting.oneNodeRoutes(testKit, settings)
                .route(log, new ClusterPageRoutes().route()));
    try {
      String base = "http://127.0.0.1:" + binding.localAddress().getPort();
      List<Integer> statuses = new java.util.ArrayList<>();
      for (String request : requests) {
        String[] methodAndPath = request.split(" ", 2);
        statuses.add(
            client
                .send(
                    HttpRequest.newBuilder(URI.create(base + methodAndPath[1]))
                        .method(
                            methodAndPath[0],
                            methodAndPath[0].equals("PUT")
                                ? BodyPublishers.ofString("v")
                                : BodyPublishers.noBody())
                        .build(),
                    BodyHandlers.discarding())
                .statusCode());
      }
      return statuses;
    } finally {
      binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void eachRequestIsOneDebugLineWithMethodPathStatusDurationAndConsistency() throws Exception {
    Recorder log = new Recorder(true);
    List<Integer> statuses =
        sendAll(
            log,
            "PUT /d/a%2Fb?consistency=one",
            "GET /d/a%2Fb",
            "GET /d/never?consistency=all",
            "GET /d/a?consistency=some%0AGET%20/forged",
            "DELETE /nowhere",
            "GET /");
    assertEquals(List.of(200, 200, 404, 400, 404, 200), statuses);
    List<String> lines = List.copyOf(log.lines);
    assertEquals(6, lines.size(), lines.toString());
    String ms = " [0-9]+\\.[0-9]{2}ms ";
    assertMatches("DEBUG PUT /d/a%2Fb 200" + ms + "consistency=one", lines.get(0));
    assertMatches("DEBUG GET /d/a%2Fb 200" + ms + "consistency=quorum", lines.get(1));
    assertMatches("DEBUG GET /d/never 404" + ms + "consistency=all", lines.get(2));
    // a decoded line break stays inside the one line
    assertMatches("DEBUG GET /d/a 400" + ms + "consistency=some\\?GET /forged", lines.get(3));
    assertMatches("DEBUG DELETE /nowhere 404" + ms + "consistency=-", lines.get(4));
    assertMatches("DEBUG GET / 200" + ms + "consistency=-", lines.get(5));
  }

  @Test
  void nothingIsLoggedWhenTheLoggerIsNotAtDebug() throws Exception {
    Recorder log = new Recorder(false);
    assertEquals(List.of(200, 404), sendAll(log, "PUT /d/k", "GET /nowhere"));
    assertTrue(log.lines.isEmpty(), log.lines.toString());
  }

  private static void assertMatches(String regex, String line) {
    assertTrue(line.matches(regex), "\"" + line + "\" does not match " + regex);
  }
}
