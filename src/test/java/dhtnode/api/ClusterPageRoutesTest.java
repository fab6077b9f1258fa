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
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /} and {@code /page/*}: the cluster page and its files come from the jar with their
 * content types, under the API's JSON error handling; nothing else on the classpath is served.
 */
class ClusterPageRoutesTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final HttpClient client = HttpClient.newHttpClient();
  static ServerBinding binding;
  static String base;

  @BeforeAll
  static void bind() throws Exception {
    // the page behind the same rejection handling as on a node (Routes.route wraps it)
    NodeSettings settings = RouteTesting.oneNodeSettings();
    binding =
        RouteTesting.bind(
            testKit,
            settings,
            RouteTesting.oneNodeRoutes(testKit, settings).route(new ClusterPageRoutes().route()));
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void shutdown() throws Exception {
    binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  @Test
  void theRootIsThePageWhichLoadsItsScriptAndStyleFromThisNode() throws Exception {
    HttpResponse<String> page = send("GET", "/");
    assertEquals(200, page.statusCode());
    assertTrue(contentType(page).startsWith("text/html"), contentType(page));
    assertTrue(page.body().contains("<svg id=\"ring\""), page.body());
    assertTrue(page.body().contains("<table id=\"members\""), page.body());
    // everything from the node itself: no CDN, no other host
    assertTrue(page.body().contains("src=\"/page/app.js\""), page.body());
    assertTrue(page.body().contains("href=\"/page/style.css\""), page.body());
    assertTrue(!page.body().contains("http://") && !page.body().contains("https://"));

    HttpResponse<String> script = send("GET", "/page/app.js");
    assertEquals(200, script.statusCode());
    assertTrue(contentType(script).contains("javascript"), contentType(script));
    for (String polled :
        new String[] {
          "/cluster/members",
          "/cluster/ring",
          "/ready",
          "/cluster/stabilization",
          "/metrics?format=json"
        }) {
      assertTrue(script.body().contains("\"" + polled + "\""), "the script polls " + polled);
    }
    HttpResponse<String> style = send("GET", "/page/style.css");
    assertEquals(200, style.statusCode());
    assertTrue(contentType(style).startsWith("text/css"), contentType(style));
  }

  @Test
  void unknownFilesAndOtherResourcesAreNotFoundAndOnlyGetIsAllowed() throws Exception {
    for (String path :
        new String[] {
          "/page/missing.js",
          "/page/../reference.conf",
          "/page/%2E%2E/reference.conf",
          "/page/..%2Freference.conf",
          "/page//reference.conf",
          "/page/"
        }) {
      HttpResponse<String> response = send("GET", path);
      assertEquals(404, response.statusCode(), path + ": " + response.body());
      assertTrue(response.body().startsWith("{\"error\":\"not_found\""), response.body());
      assertTrue(!response.body().contains("akka"), path + " serves nothing else from the jar");
    }
    HttpResponse<String> post = send("POST", "/");
    assertEquals(405, post.statusCode());
    assertEquals("GET", post.headers().firstValue("Allow").orElse(""));
  }

  private static String contentType(HttpResponse<String> response) {
    return response.headers().firstValue("Content-Type").orElse("");
  }

  private static HttpResponse<String> send(String method, String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .method(method, BodyPublishers.noBody())
            .build(),
        BodyHandlers.ofString());
  }
}
