package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dhtnode.api.ReadinessRoutes;
import dhtnode.api.RouteTesting;
import dhtnode.api.StabilizationRoutes;
import dhtnode.membership.Member;
import dhtnode.membership.MemberStatus;
import dhtnode.membership.MembershipActor;
import dhtnode.stabilization.StabilizationPlanner;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /ready} over HTTP, with membership and the stabilizer played by stub actors (in the
 * ring's test package, to publish a ring snapshot by hand).
 */
class ReadinessRoutesTest {
  static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString("akka.actor.provider = local")
              .withFallback(ConfigFactory.load()));
  static final ObjectMapper JSON = new ObjectMapper();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static ActorRef<MembershipActor.Command> membership(MemberStatus node3) {
    return RouteTesting.membership(
        testKit,
        "node1",
        List.of(
            new Member("node1", "127.0.0.1", 7000, 8000, MemberStatus.ALIVE, 1),
            new Member("node2", "127.0.0.1", 7001, 8001, MemberStatus.ALIVE, 1),
            new Member("node3", "127.0.0.1", 7002, 8002, node3, 1)));
  }

  /** A planner that reports {@code recovering} ranges still to refill. */
  static ActorRef<StabilizationPlanner.Command> planner(AtomicInteger recovering) {
    return testKit.spawn(
        Behaviors.receive(StabilizationPlanner.Command.class)
            .onMessage(
                StabilizationPlanner.GetStatus.class,
                get -> {
                  get.replyTo()
                      .tell(
                          new StabilizationPlanner.Status(
                              4,
                              recovering.get() == 0,
                              0,
                              false,
                              false,
                              0,
                              false,
                              null,
                              recovering.get(),
                              0,
                              0,
                              0,
                              0,
                              0,
                              0,
                              0,
                              Map.of(),
                              0,
                              0));
                  return Behaviors.same();
                })
            .build());
  }

  static HttpResponse<String> ready(
      ActorRef<MembershipActor.Command> membership, ActorRef<StabilizationPlanner.Command> planner)
      throws Exception {
    RingView view = new RingView(RingSettings.from(ConfigFactory.load()), 3);
    view.publish(new RingSnapshot(4, HashRing.of(List.of("node1", "node2", "node3"), 16, 3)));
    ReadinessRoutes routes =
        new ReadinessRoutes(
            testKit.system(), "node1", membership, planner, view, Duration.ofSeconds(3));
    return RouteTesting.get(testKit, routes.route(), "/ready");
  }

  @Test
  void notReadyWhileRefillingThenReadyOnceRefilled() throws Exception {
    AtomicInteger recovering = new AtomicInteger(7);
    ActorRef<MembershipActor.Command> membership = membership(MemberStatus.ALIVE);
    ActorRef<StabilizationPlanner.Command> planner = planner(recovering);

    HttpResponse<String> filling = ready(membership, planner);
    assertEquals(503, filling.statusCode(), filling.body());
    JsonNode body = JSON.readTree(filling.body());
    assertFalse(body.path("ready").asBoolean());
    assertTrue(body.path("reasons").toString().contains("refilling 7 range(s)"), filling.body());
    // the cluster page on another member reads it too, 503 included
    assertEquals("*", filling.headers().firstValue("Access-Control-Allow-Origin").orElse(""));

    recovering.set(0);
    HttpResponse<String> filled = ready(membership, planner);
    assertEquals(200, filled.statusCode(), filled.body());
    JsonNode ok = JSON.readTree(filled.body());
    assertTrue(ok.path("ready").asBoolean());
    assertEquals(4, ok.path("epoch").asLong());
    assertEquals(3, ok.path("reachable").asInt());
    assertEquals("*", filled.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
  }

  @Test
  void stabilizationStatusIsReadableFromAnyOrigin() throws Exception {
    StabilizationRoutes routes =
        new StabilizationRoutes(
            testKit.system(), planner(new AtomicInteger(2)), Duration.ofSeconds(3));
    HttpResponse<String> r = RouteTesting.get(testKit, routes.route(), "/cluster/stabilization");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(2, JSON.readTree(r.body()).path("recoveringRanges").asInt(), r.body());
    assertEquals("*", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
  }

  @Test
  void aDeadMemberOfThreeStillLeavesAQuorum() throws Exception {
    HttpResponse<String> r = ready(membership(MemberStatus.DEAD), planner(new AtomicInteger()));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(2, JSON.readTree(r.body()).path("reachable").asInt());
  }
}
