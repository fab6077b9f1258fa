package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dhtnode.api.HttpSettings;
import dhtnode.api.RingRoutes;
import dhtnode.keyspace.Murmur3;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The ring routes of two "nodes" that saw the same members arrive in different orders. */
class RingRoutesTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient client = HttpClient.newHttpClient();
  private static final RingSettings SETTINGS =
      RingSettings.from(
          ConfigFactory.parseString("dht.ring.vnodes = 64")
              .withFallback(ConfigFactory.defaultReference()));
  private static final List<String> MEMBERS = List.of("node1", "node2", "node3", "node4");

  private static final List<ServerBinding> bindings = new ArrayList<>();
  private static RingView viewA;
  private static String urlA;
  private static String urlB;

  private static HttpSettings settings;

  @BeforeAll
  static void bind() throws Exception {
    settings =
        HttpSettings.from(
            ConfigFactory.parseString("dht.node.name = node1\ndht.http.max-key-size = 64")
                .withFallback(ConfigFactory.load()));
    viewA = new RingView(SETTINGS, 3);
    viewA.publish(new RingSnapshot(4, HashRing.of(MEMBERS, SETTINGS.vnodes, 3)));
    RingView viewB = new RingView(SETTINGS, 3);
    // node B saw another order of joins and an extra member come and go
    viewB.publish(new RingSnapshot(2, HashRing.of(List.of("node4", "node2"), SETTINGS.vnodes, 3)));
    viewB.publish(
        new RingSnapshot(
            7, HashRing.of(List.of("node3", "node4", "node1", "node2"), SETTINGS.vnodes, 3)));
    urlA = bind(new RingRoutes(settings, viewA));
    urlB = bind(new RingRoutes(settings, viewB));
  }

  private static String bind(RingRoutes routes) throws Exception {
    ServerBinding binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .withSettings(settings.serverSettings(testKit.system()))
            .bind(routes.route())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    bindings.add(binding);
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void shutdown() throws Exception {
    for (ServerBinding b : bindings) {
      b.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    return JSON.readTree(response.body());
  }

  @Test
  void ringListsSettingsMembersAndEveryTokenAsAStringInRingOrder() throws Exception {
    HttpResponse<String> response = get(urlA + "/cluster/ring");
    assertEquals(200, response.statusCode());
    JsonNode body = json(response);
    assertEquals(4, body.get("epoch").asLong());
    assertEquals(3, body.get("replicationFactor").asInt());
    assertEquals(64, body.get("vnodes").asInt());
    assertEquals(JSON.valueToTree(MEMBERS), body.get("members"));
    JsonNode tokens = body.get("tokens");
    assertEquals(MEMBERS.size() * 64, tokens.size());
    HashRing ring = viewA.ring();
    long previous = Long.MIN_VALUE;
    for (int i = 0; i < tokens.size(); i++) {
      JsonNode t = tokens.get(i);
      assertTrue(t.get("token").isTextual());
      long token = Long.parseLong(t.get("token").asText());
      assertTrue(token >= previous);
      previous = token;
      assertEquals(ring.tokenAt(i), token);
      assertEquals(ring.ownerAt(i), t.get("node").asText());
    }
  }

  @Test
  void theRingAnswerFollowsTheViewAsItChanges() throws Exception {
    RingView view = new RingView(SETTINGS, 3);
    String url = bind(new RingRoutes(HttpSettings.from(ConfigFactory.load()), view));
    assertEquals(0, json(get(url + "/cluster/ring")).get("tokens").size());
    view.publish(new RingSnapshot(1, HashRing.of(List.of("node9"), SETTINGS.vnodes, 3)));
    JsonNode body = json(get(url + "/cluster/ring"));
    assertEquals(1, body.get("epoch").asLong());
    assertEquals(64, body.get("tokens").size());
    assertEquals(
        List.of("node9"),
        JSON.convertValue(json(get(url + "/cluster/owners/k")).get("replicas"), List.class));
  }

  @Test
  void aTransitionShowsTheReadRingTheTargetAndHowManyRangesMove() throws Exception {
    RingView view = new RingView(SETTINGS, 3);
    String url = bind(new RingRoutes(settings, view));
    HashRing three = HashRing.of(List.of("node1", "node2", "node3"), SETTINGS.vnodes, 3);
    HashRing four = HashRing.of(MEMBERS, SETTINGS.vnodes, 3);
    view.publish(new RingSnapshot(8, three, four));
    JsonNode body = json(get(url + "/cluster/ring"));
    assertEquals(8, body.get("epoch").asLong());
    assertTrue(body.get("inTransition").asBoolean());
    assertEquals(JSON.valueToTree(List.of("node1", "node2", "node3")), body.get("members"));
    assertEquals(JSON.valueToTree(MEMBERS), body.get("next"));
    int moving = body.get("rangesInTransition").asInt();
    assertEquals(view.current().rangesInTransition().size(), moving);
    assertTrue(moving > 0);
    JsonNode arcs = body.get("transitionRanges");
    assertEquals(moving, arcs.size());
    for (int i = 0; i < moving; i++) {
      dhtnode.keyspace.TokenRange range = view.current().rangesInTransition().get(i);
      assertEquals(Long.toString(range.start()), arcs.get(i).get("start").asText());
      assertEquals(Long.toString(range.end()), arcs.get(i).get("end").asText());
    }
    assertEquals(3 * 64, body.get("tokens").size(), "the tokens are the read ring's");
    view.publishFills(
        new RingView.Fills(8, java.util.Set.of("node4", "node2"), java.util.Set.of("node4")));
    JsonNode fills = json(get(url + "/cluster/ring"));
    assertEquals(JSON.valueToTree(List.of("node2")), fills.get("awaitingFills"));
    assertEquals(JSON.valueToTree(List.of("node4")), fills.get("fillsReported"));
    // reads stay on the old set until the transition finishes
    assertEquals(
        JSON.valueToTree(three.preferenceList("k")),
        json(get(url + "/cluster/owners/k")).get("replicas"));

    view.publish(new RingSnapshot(9, four));
    JsonNode stable = json(get(url + "/cluster/ring"));
    assertTrue(!stable.get("inTransition").asBoolean());
    assertEquals(0, stable.get("rangesInTransition").asInt());
    assertEquals(0, stable.get("transitionRanges").size());
    assertEquals(stable.get("members"), stable.get("next"));
  }

  @Test
  void ownersDecodesTheKeyLikeDataKeysAndListsItsReplicasInOrder() throws Exception {
    String key = "user/42 café?&#";
    String encoded = URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
    HttpResponse<String> response = get(urlA + "/cluster/owners/" + encoded);
    assertEquals(200, response.statusCode());
    JsonNode body = json(response);
    assertEquals(key, body.get("key").asText());
    assertEquals(Long.toString(Murmur3.token(key)), body.get("token").asText());
    assertEquals(JSON.valueToTree(viewA.ring().preferenceList(key)), body.get("replicas"));
    assertEquals(3, body.get("replicas").size());
    // an unencoded '/' is part of the key, as under /d/
    JsonNode slashed = json(get(urlA + "/cluster/owners/a/b"));
    assertEquals("a/b", slashed.get("key").asText());
    assertEquals(slashed, json(get(urlA + "/cluster/owners/a%2Fb")));
  }

  @Test
  void everyNodeWithTheSameMembersGivesTheSameOwnersAndTokens() throws Exception {
    for (int i = 0; i < 50; i++) {
      String path = "/cluster/owners/key-" + i;
      assertEquals(get(urlA + path).body(), get(urlB + path).body(), path);
    }
    assertEquals(
        json(get(urlA + "/cluster/ring")).get("tokens"),
        json(get(urlB + "/cluster/ring")).get("tokens"));
  }

  @Test
  void badKeysGetJsonErrors() throws Exception {
    // Malformed escapes (%zz) are refused by the HTTP parser before any route, and invalid
    // UTF-8 (%C3%28) reaches routes already decoded to U+FFFD, for /d/ as for this route.
    HttpResponse<String> empty = get(urlA + "/cluster/owners/");
    assertEquals(400, empty.statusCode());
    assertEquals("bad_key", json(empty).get("error").asText());
    HttpResponse<String> tooLong = get(urlA + "/cluster/owners/" + "k".repeat(65));
    assertEquals(414, tooLong.statusCode());
    assertEquals("key_too_long", json(tooLong).get("error").asText());
  }
}
