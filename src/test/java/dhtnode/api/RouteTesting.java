package dhtnode.api;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import com.typesafe.config.ConfigFactory;
import dhtnode.membership.Member;
import dhtnode.membership.MembershipActor;
import dhtnode.metrics.Metrics;
import dhtnode.node.NodeSettings;
import dhtnode.replication.Replica;
import dhtnode.replication.ReplicaCoordinator;
import dhtnode.replication.ReplicaLocator;
import dhtnode.storage.HybridClock;
import dhtnode.storage.InMemoryEngine;
import dhtnode.storage.StorageActor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

/**
 * What the route tests share: a membership actor that answers a fixed list, a one-node set of data
 * routes, a binding like a node's, and one GET.
 */
public final class RouteTesting {
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  private RouteTesting() {}

  /** A membership actor that answers every GetMembers with {@code members}, as {@code self}. */
  public static ActorRef<MembershipActor.Command> membership(
      ActorTestKit testKit, String self, List<Member> members) {
    return testKit.spawn(
        Behaviors.receive(MembershipActor.Command.class)
            .onMessage(
                MembershipActor.GetMembers.class,
                get -> {
                  get.replyTo().tell(new MembershipActor.Members(self, members));
                  return Behaviors.same();
                })
            .build());
  }

  /** The settings of a one-node cluster (N = R = W = 1) named "test-node", in memory. */
  public static NodeSettings oneNodeSettings() {
    return NodeSettings.from(
        ConfigFactory.parseString(
                "dht.node.name = test-node\n"
                    + "dht.storage.engine = memory\n"
                    + "dht.replication { factor = 1, read-quorum = 1, write-quorum = 1 }\n")
            .withFallback(ConfigFactory.defaultReference())
            .resolve());
  }

  /** The data routes of a one-node cluster whose only replica is a fresh in-memory storage. */
  public static Routes oneNodeRoutes(ActorTestKit testKit, NodeSettings settings) {
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new));
    return new Routes(
        settings.http,
        settings.replication,
        settings.name,
        testKit.system(),
        storage,
        ReplicaLocator.fixed(List.of(new Replica(settings.name, storage))),
        null,
        new HybridClock(),
        null,
        ReplicaCoordinator.EpochListener.IGNORE,
        new Metrics(settings.name));
  }

  /** Binds {@code route} as a node does (its server settings) on a free port of 127.0.0.1. */
  public static ServerBinding bind(ActorTestKit testKit, NodeSettings settings, Route route)
      throws Exception {
    return Http.get(testKit.system())
        .newServerAt("127.0.0.1", 0)
        .withSettings(settings.http.serverSettings(testKit.system()))
        .bind(route)
        .toCompletableFuture()
        .get(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Binds {@code route} on a free port, sends one GET of {@code path}, and unbinds. */
  public static HttpResponse<String> get(ActorTestKit testKit, Route route, String path)
      throws Exception {
    ServerBinding binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(route)
            .toCompletableFuture()
            .get();
    try {
      URI uri = URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + path);
      return CLIENT.send(
          HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    } finally {
      binding.unbind().toCompletableFuture().get();
    }
  }
}
