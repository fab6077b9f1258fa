package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import dhtnode.keyspace.TokenRange;
import dhtnode.storage.StorageActor;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Commands a node gives itself (delete a range, sweep, purge, apply, start a fill or a repair) must
 * not be something a peer can send: they have no wire format, and bytes that name one of them are
 * refused by the serializer that peer messages use.
 */
class LocalOnlyCommandsTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void localCommandsCannotBeSerialized() {
    Serialization serialization = SerializationExtension.get(testKit.system());
    TestProbe<Stabilizer.DropDone> drops = testKit.createTestProbe();
    TestProbe<Stabilizer.FetchDone> fetches = testKit.createTestProbe();
    TestProbe<Stabilizer.RepairDone> repairs = testKit.createTestProbe();
    TestProbe<Stabilizer.CollectDone> collects = testKit.createTestProbe();
    TestProbe<Stabilizer.Command> peer = testKit.createTestProbe();
    TestProbe<StorageActor.Reply> storageReplies = testKit.createTestProbe();
    TokenRange range = new TokenRange(5, -5);
    List<Object> local =
        List.of(
            new Stabilizer.Drop(range, drops.getRef()),
            new Stabilizer.Fetch(
                range, 3, List.of(new Stabilizer.Source("n", peer.getRef())), 1, fetches.getRef()),
            new Stabilizer.Repair(range, 3, "n", peer.getRef(), repairs.getRef()),
            new Stabilizer.CollectTombstones(range, 3, List.of(), 7, collects.getRef()),
            new StorageActor.Sweep(range, null, 10, storageReplies.getRef()),
            new StorageActor.Purge("k", new Version(1, "n"), storageReplies.getRef()),
            new StorageActor.Scan(range, null, 10, storageReplies.getRef()),
            new StorageActor.Apply(
                "k", Versioned.tombstone(new Version(1, "n")), storageReplies.getRef()),
            new StorageActor.GetStats(storageReplies.getRef()));
    for (Object m : local) {
      assertTrue(
          serialization.serialize(m).isFailure(),
          m.getClass().getSimpleName() + " has a wire format");
    }
  }

  @Test
  void bytesThatNameALocalCommandAreRefused() {
    Serialization serialization = SerializationExtension.get(testKit.system());
    TestProbe<Stabilizer.PeerReply> probe = testKit.createTestProbe();
    Stabilizer.GetBatch peerMessage =
        new Stabilizer.GetBatch(new TokenRange(5, -5), null, 10, 3, probe.getRef());
    Serializer cbor = serialization.findSerializerFor(peerMessage);
    byte[] bytes = serialization.serialize(peerMessage).get();
    for (Class<?> local :
        List.of(Stabilizer.Drop.class, StorageActor.Sweep.class, StorageActor.Purge.class)) {
      String manifest =
          Serializers.manifestFor(cbor, peerMessage)
              .replace(Stabilizer.GetBatch.class.getName(), local.getName());
      assertTrue(
          serialization.deserialize(bytes, cbor.identifier(), manifest).isFailure(),
          local.getSimpleName() + " was accepted from the wire");
    }
  }
}
