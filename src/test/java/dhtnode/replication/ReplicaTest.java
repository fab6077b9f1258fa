package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import com.typesafe.config.ConfigFactory;
import dhtnode.storage.StorageActor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A replica knows whether its storage is on another node, from the ref alone. */
class ReplicaTest {
  // remoting on a port of the kernel's choosing: a remote ref needs a remote provider
  static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString(
              "akka.actor.provider = remote\n"
                  + "akka.remote { warn-about-direct-use = off, warn-unsafe-watch-outside-cluster = off }\n"
                  + "akka.remote.artery.canonical { hostname = \"127.0.0.1\", port = 0 }"));

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @Test
  void aRefResolvedOverRemotingIsRemoteAndALocalOneIsNot() {
    ActorRef<StorageActor.Command> local =
        testKit.createTestProbe(StorageActor.Command.class).getRef();
    ActorRef<StorageActor.Command> remote =
        ActorRefResolver.get(testKit.system())
            .resolveActorRef("akka://dht@127.0.0.2:7999/user/storage");
    assertFalse(new Replica("self", local).remote());
    assertTrue(new Replica("other", remote).remote());
  }
}
