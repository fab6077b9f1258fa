package dhtnode.api;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import dhtnode.membership.Member;
import dhtnode.membership.MembershipActor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * {@code GET /cluster/members}: this node's membership view, asked of the {@link MembershipActor}.
 * Answers 200 with {@code {"self", "members": [...]}} (DEAD and LEFT members included while they
 * are remembered), or 503 with a JSON error body when the actor does not answer in time.
 */
public final class MembershipRoutes extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<MembershipActor.Command> membership;
  private final Duration timeout;

  public MembershipRoutes(ActorSystem<?> system, ActorRef<MembershipActor.Command> membership, Duration timeout) {
    this.system = system;
    this.membership = membership;
    this.timeout = timeout;
  }

  public Route route() {
    return pathPrefix("cluster", () -> path("members", () -> get(() -> completeWithFuture(members()))));
  }

  private CompletionStage<HttpResponse> members() {
    CompletionStage<MembershipActor.Members> reply =
        AskPattern.ask(membership, MembershipActor.GetMembers::new, timeout, system.scheduler());
    return reply.handle((members, failure) -> {
      if (failure != null) {
        return unavailable(failure);
      }
      List<Map<String, Object>> list = new ArrayList<>();
      for (Member m : members.members()) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("name", m.name());
        entry.put("host", m.host());
        entry.put("httpPort", m.httpPort());
        entry.put("clusterPort", m.clusterPort());
        entry.put("status", m.status().name());
        entry.put("incarnation", m.incarnation());
        list.add(entry);
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("self", members.self());
      body.put("members", list);
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body));
    });
  }

  private HttpResponse unavailable(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException) {
      return ErrorBody.response(StatusCodes.SERVICE_UNAVAILABLE, "timeout",
          "membership did not answer within " + timeout.toMillis() + " ms");
    }
    return ErrorBody.response(StatusCodes.SERVICE_UNAVAILABLE, "unavailable",
        "membership could not answer: " + cause.getMessage());
  }
}
