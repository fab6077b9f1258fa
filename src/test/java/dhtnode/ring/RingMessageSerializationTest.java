package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every ring message crosses nodes as jackson-cbor and comes back equal. */
class RingMessageSerializationTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyRingMessageRoundTripsThroughTheRemoteSerializer() {
    SerializationTestKit serialization = testKit.serializationTestKit();
    RingMember a = new RingMember("a", "127.0.0.1", 7000, 8000);
    RingMember b = new RingMember("b", "10.0.0.2", 7001, 8001);
    RingConfig config =
        new RingConfig(List.of(a), List.of(a, b), Map.of("c", 17L), "joined [b]", "a");
    Ballot ballot = new Ballot(3, "a");
    List<RingMessage> messages =
        List.of(
            new RingMessage.Prepare(a, 5, ballot),
            new RingMessage.Promise(b, 5, ballot, new Ballot(2, "b"), config, Set.of("a", "b")),
            new RingMessage.Promise(b, 5, ballot, Ballot.ZERO, null, null),
            new RingMessage.Accept(a, 5, ballot, config),
            new RingMessage.Accepted(b, 5, ballot),
            new RingMessage.Nack(b, 5, ballot, new Ballot(4, "b")),
            new RingMessage.Committed(a, 5, config),
            new RingMessage.EpochQuery(b, 0),
            new RingMessage.EpochState(a, 5, config),
            new RingMessage.FillDone(b, 5, "b"));
    for (RingMessage m : messages) {
      RingActor.Peer peer = new RingActor.Peer(m);
      assertEquals(peer, serialization.verifySerialization(peer, false), m.toString());
    }
  }
}
