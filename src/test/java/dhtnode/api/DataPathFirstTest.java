package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import dhtnode.node.NodeSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The API bound as a node binds it serves data requests through the handler function and the rest
 * through the routing DSL; the DSL view of the same route answers data requests identically.
 */
class DataPathFirstTest extends AllDirectives {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final HttpClient client = HttpClient.newHttpClient();
  static final NodeSettings settings = RouteTesting.oneNodeSettings();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  record Answer(int status, String body, Optional<String> allow) {}

  static Answer send(ServerBinding binding, String method, String path, String body)
      throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + path);
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body))
            .build();
    java.net.http.HttpResponse<String> response = client.send(request, BodyHandlers.ofString());
    return new Answer(
        response.statusCode(), response.body(), response.headers().firstValue("Allow"));
  }

  static ServerBinding bind(Route route) throws Exception {
    return RouteTesting.bind(testKit, settings, route);
  }

  @Test
  void dataRequestsGoToTheHandlerAndEverythingElseToTheDsl() throws Exception {
    Route dsl = complete("from the dsl");
    DataPathFirst.DataHandler data =
        request ->
            KeyPath.rawDataPath(request).isPresent()
                ? Optional.of(
                    CompletableFuture.completedFuture(
                        HttpResponse.create().withEntity("from the handler")))
                : Optional.empty();
    AccessLog off =
        new AccessLog(LoggerFactory.getLogger("quiet"), settings.replication.defaultConsistency);
    ServerBinding binding = bind(new DataPathFirst(dsl, dsl, data, off));
    try {
      assertEquals("from the handler", send(binding, "GET", "/d/k", null).body());
      assertEquals("from the handler", send(binding, "PUT", "/d/k", "v").body());
      assertEquals("from the dsl", send(binding, "GET", "/health", null).body());
      assertEquals("from the dsl", send(binding, "GET", "/data", null).body());
    } finally {
      binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theDslViewAnswersDataRequestsLikeTheHandler() throws Exception {
    Route api = RouteTesting.oneNodeRoutes(testKit, settings).route();
    // seal() is a routing-DSL route: bound, it has no handler function in front of it
    ServerBinding handler = bind(api);
    ServerBinding dsl = bind(api.seal());
    List<String[]> requests =
        List.of(
            new String[] {"GET", "/d/missing", null},
            new String[] {"PUT", "/d/%FF", "v"},
            new String[] {"GET", "/d/k?consistency=most", null},
            new String[] {"GET", "/d/", null},
            new String[] {"PATCH", "/d/k", "v"},
            new String[] {"DELETE", "/d/never-written", null},
            new String[] {"GET", "/nowhere", null});
    try {
      for (String[] r : requests) {
        Answer viaHandler = send(handler, r[0], r[1], r[2]);
        Answer viaDsl = send(dsl, r[0], r[1], r[2]);
        String what = r[0] + " " + r[1];
        assertEquals(viaDsl.status(), viaHandler.status(), what);
        assertEquals(viaDsl.allow(), viaHandler.allow(), what);
        if (!r[0].equals("DELETE")) { // a delete's body names its own version
          assertEquals(viaDsl.body(), viaHandler.body(), what);
        }
      }
      // a value written through one view is read back through the other
      assertEquals(200, send(handler, "PUT", "/d/shared", "one").status());
      Answer read = send(dsl, "GET", "/d/shared", null);
      assertEquals(200, read.status());
      assertEquals("one", read.body());
      assertEquals(200, send(dsl, "PUT", "/d/shared", "two").status());
      assertEquals("two", send(handler, "GET", "/d/shared", null).body());
    } finally {
      handler.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
      dsl.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }
}
