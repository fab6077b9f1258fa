package dhtnode.api;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import dhtnode.membership.Member;
import dhtnode.membership.MembershipActor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

/** What the route tests share: a membership actor that answers a fixed list, and one GET. */
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
