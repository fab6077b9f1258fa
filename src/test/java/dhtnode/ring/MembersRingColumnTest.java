package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dhtnode.api.MembershipRoutes;
import dhtnode.membership.Member;
import dhtnode.membership.MemberStatus;
import dhtnode.membership.MembershipActor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@code /cluster/members} shows where the agreed ring has each member beside its SWIM state. */
class MembersRingColumnTest {
  static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString("akka.actor.provider = local")
              .withFallback(ConfigFactory.load()));
  private static final ObjectMapper JSON = new ObjectMapper();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void ringMembershipIsShownBesideSwimStateAndRingMembersSwimDoesNotListAppear() throws Exception {
    List<Member> members =
        List.of(
            new Member("node1", "127.0.0.1", 7000, 8000, MemberStatus.ALIVE, 17),
            new Member("node2", "127.0.0.1", 7001, 8001, MemberStatus.DEAD, 3),
            new Member("node4", "127.0.0.1", 7003, 8003, MemberStatus.ALIVE, 5),
            new Member("node5", "127.0.0.1", 7004, 8004, MemberStatus.ALIVE, 5));
    ActorRef<MembershipActor.Command> membership =
        dhtnode.api.RouteTesting.membership(testKit, "node1", members);
    RingView view = new RingView(RingSettings.from(ConfigFactory.load()), 3);
    // epoch 6 moves from node1..node3 to node1, node3, node4: node2 leaves, node4 joins
    view.publish(
        new RingSnapshot(
            6,
            HashRing.of(List.of("node1", "node2", "node3"), 16, 3),
            HashRing.of(List.of("node1", "node3", "node4"), 16, 3)));
    MembershipRoutes routes =
        new MembershipRoutes(testKit.system(), membership, Duration.ofMillis(300), view);
    JsonNode body =
        JSON.readTree(
            dhtnode.api.RouteTesting.get(testKit, routes.route(), "/cluster/members").body());
    assertEquals(6, body.get("epoch").asLong());
    Map<String, String> ring = new TreeMap<>();
    Map<String, String> status = new TreeMap<>();
    for (JsonNode m : body.get("members")) {
      ring.put(m.get("name").asText(), m.get("ring").asText());
      status.put(m.get("name").asText(), m.get("status").asText());
    }
    assertEquals(
        Map.of(
            "node1", "current", "node2", "leaving", "node3", "current", "node4", "joining", "node5",
            "none"),
        ring);
    assertEquals("UNKNOWN", status.get("node3"), "in the ring, not heard of by SWIM");
    assertEquals("DEAD", status.get("node2"));
  }
}
