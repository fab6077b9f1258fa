package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dhtnode.ring.RingActor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's ring routes against a real binding, with a ring actor that answers as scripted.
 */
class RingOperatorRoutesTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  private static final HttpClient client = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ServerBinding binding;
  private static String url;

  /**
   * Answers by name: node9 is unknown, node1 is this node, node2 is alive, node3 goes, node4 never
   * commits.
   */
  private static RingActor.OperatorReply scripted(String name) {
    return switch (name) {
      case "node9" ->
          new RingActor.OperatorRefused("not-found", "node9 is in no set of ring epoch 5");
      case "node1" ->
          new RingActor.OperatorRefused("bad-request", "a node cannot force itself out");
      case "node2" -> new RingActor.OperatorRefused("conflict", "node2 is ALIVE");
      case "node3" -> new RingActor.OperatorDone(6, "force-removed [node3]");
      default -> null;
    };
  }

  @BeforeAll
  static void bind() throws Exception {
    ActorRef<RingActor.Command> ring =
        testKit.spawn(
            Behaviors.receive(RingActor.Command.class)
                .onMessage(
                    RingActor.ForceRemove.class,
                    m -> {
                      RingActor.OperatorReply reply = scripted(m.name());
                      if (reply != null) {
                        m.replyTo().tell(reply);
                      }
                      return Behaviors.same();
                    })
                .onMessage(
                    RingActor.Decommission.class,
                    m -> {
                      m.replyTo().tell(new RingActor.OperatorDone(7, "decommissioning node1"));
                      return Behaviors.same();
                    })
                .build());
    binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(new RingOperatorRoutes(testKit.system(), ring, Duration.ofMillis(300)).route())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    url = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void shutdown() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> post(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(url + path))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    return JSON.readTree(r.body());
  }

  @Test
  void forceRemoveAnswersWithTheEpochThatRemovedTheMember() throws Exception {
    HttpResponse<String> r = post("/cluster/remove/node3");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = json(r);
    assertEquals("node3", body.get("removed").asText());
    assertEquals(6, body.get("epoch").asLong());
  }

  @Test
  void refusalsMapToStatusCodesWithJsonErrors() throws Exception {
    HttpResponse<String> unknown = post("/cluster/remove/node9");
    assertEquals(404, unknown.statusCode());
    assertEquals("not_found", json(unknown).get("error").asText());
    HttpResponse<String> self = post("/cluster/remove/node1");
    assertEquals(400, self.statusCode());
    assertEquals("bad_request", json(self).get("error").asText());
    HttpResponse<String> alive = post("/cluster/remove/node2");
    assertEquals(409, alive.statusCode());
    assertTrue(json(alive).get("message").asText().contains("ALIVE"));
  }

  @Test
  void anEpochNotCommittedInTimeIs503() throws Exception {
    HttpResponse<String> r = post("/cluster/remove/node4");
    assertEquals(503, r.statusCode());
    assertEquals("not_committed", json(r).get("error").asText());
  }

  @Test
  void decommissionIsAcceptedOnceItsTransitionIsCommitted() throws Exception {
    HttpResponse<String> r = post("/cluster/decommission");
    assertEquals(202, r.statusCode(), r.body());
    assertEquals(7, json(r).get("epoch").asLong());
  }
}
