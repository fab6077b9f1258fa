package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dhtnode.membership.Member;
import dhtnode.membership.MemberStatus;
import dhtnode.membership.MembershipActor;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class MembershipRoutesTest {
  static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString("akka.actor.provider = local")
              .withFallback(ConfigFactory.load()));
  private static final ObjectMapper json = new ObjectMapper();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> getMembers(ActorRef<MembershipActor.Command> membership)
      throws Exception {
    MembershipRoutes routes =
        new MembershipRoutes(testKit.system(), membership, Duration.ofMillis(300));
    return RouteTesting.get(testKit, routes.route(), "/cluster/members");
  }

  @Test
  void membersAreListedWithStatusAndIncarnation() throws Exception {
    List<Member> members =
        List.of(
            new Member("node1", "127.0.0.1", 7000, 8000, MemberStatus.ALIVE, 17),
            new Member("node2", "127.0.0.1", 7001, 8001, MemberStatus.DEAD, 3));
    ActorRef<MembershipActor.Command> membership =
        testKit.spawn(
            Behaviors.receive(MembershipActor.Command.class)
                .onMessage(
                    MembershipActor.GetMembers.class,
                    get -> {
                      get.replyTo().tell(new MembershipActor.Members("node1", members));
                      return Behaviors.same();
                    })
                .build());

    HttpResponse<String> response = getMembers(membership);
    assertEquals(200, response.statusCode());
    JsonNode body = json.readTree(response.body());
    assertEquals("node1", body.get("self").asText());
    assertEquals(
        json.readTree(
            """
        [{"name":"node1","host":"127.0.0.1","httpPort":8000,"clusterPort":7000,"status":"ALIVE","incarnation":17},
         {"name":"node2","host":"127.0.0.1","httpPort":8001,"clusterPort":7001,"status":"DEAD","incarnation":3}]
        """),
        body.get("members"));
  }

  @Test
  void eachMemberSaysSinceWhenItHasItsStatusAndWhoSuspectsIt() throws Exception {
    List<Member> members =
        List.of(
            new Member("node1", "127.0.0.1", 7000, 8000, MemberStatus.ALIVE, 17),
            new Member("node2", "127.0.0.1", 7001, 8001, MemberStatus.SUSPECT, 3),
            new Member("node3", "127.0.0.1", 7002, 8002, MemberStatus.ALIVE, 4));
    Map<String, MembershipActor.Standing> standings =
        Map.of(
            "node1",
                new MembershipActor.Standing(
                    Instant.parse("2026-11-29T08:00:00.123456Z"), List.of()),
            "node2",
                new MembershipActor.Standing(
                    Instant.parse("2026-11-29T08:01:02.500Z"), List.of("node1", "node3")),
            "node3", new MembershipActor.Standing(null, List.of()));
    ActorRef<MembershipActor.Command> membership =
        testKit.spawn(
            Behaviors.receive(MembershipActor.Command.class)
                .onMessage(
                    MembershipActor.GetMembers.class,
                    get -> {
                      get.replyTo().tell(new MembershipActor.Members("node1", members, standings));
                      return Behaviors.same();
                    })
                .build());

    HttpResponse<String> response = getMembers(membership);
    assertEquals(200, response.statusCode());
    assertEquals(
        json.readTree(
            """
        [{"name":"node1","host":"127.0.0.1","httpPort":8000,"clusterPort":7000,"status":"ALIVE","incarnation":17,
          "since":"2026-11-29T08:00:00.123Z","suspectedBy":[]},
         {"name":"node2","host":"127.0.0.1","httpPort":8001,"clusterPort":7001,"status":"SUSPECT","incarnation":3,
          "since":"2026-11-29T08:01:02.500Z","suspectedBy":["node1","node3"]},
         {"name":"node3","host":"127.0.0.1","httpPort":8002,"clusterPort":7002,"status":"ALIVE","incarnation":4,
          "suspectedBy":[]}]
        """),
        json.readTree(response.body()).get("members"));
  }

  @Test
  void silentMembershipGives503WithAJsonError() throws Exception {
    ActorRef<MembershipActor.Command> silent = testKit.spawn(Behaviors.ignore());
    HttpResponse<String> response = getMembers(silent);
    assertEquals(503, response.statusCode());
    assertEquals("timeout", json.readTree(response.body()).get("error").asText());
  }
}
