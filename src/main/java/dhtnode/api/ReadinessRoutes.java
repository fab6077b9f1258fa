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
import dhtnode.ring.RingSnapshot;
import dhtnode.ring.RingView;
import dhtnode.stabilization.StabilizationPlanner;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /ready}: 200 {@code {"ready": true, ...}} when this node serves quorum requests, else
 * 503 with {@code "ready": false} and the reasons (see {@link Readiness}). {@code /health} stays
 * liveness: the process answers. Load balancers and the scripts wait on this one.
 */
public final class ReadinessRoutes extends AllDirectives {
  private final ActorSystem<?> system;
  private final String self;
  private final ActorRef<MembershipActor.Command> membership;
  private final ActorRef<StabilizationPlanner.Command> planner;
  private final RingView ring;
  private final Duration timeout;

  public ReadinessRoutes(
      ActorSystem<?> system,
      String self,
      ActorRef<MembershipActor.Command> membership,
      ActorRef<StabilizationPlanner.Command> planner,
      RingView ring,
      Duration timeout) {
    this.system = system;
    this.self = self;
    this.membership = membership;
    this.planner = planner;
    this.ring = ring;
    this.timeout = timeout;
  }

  public Route route() {
    // readable from any origin: the cluster page polls every member's own readiness
    return path(
        "ready", () -> get(() -> CrossOrigin.readableFromAnyOrigin(completeWithFuture(ready()))));
  }

  private CompletionStage<HttpResponse> ready() {
    CompletionStage<MembershipActor.Members> members =
        AskPattern.ask(membership, MembershipActor.GetMembers::new, timeout, system.scheduler());
    CompletionStage<StabilizationPlanner.Status> status =
        AskPattern.ask(planner, StabilizationPlanner.GetStatus::new, timeout, system.scheduler());
    return members
        .thenCombine(status, this::answer)
        .handle(
            (answer, failure) ->
                failure != null
                    ? ErrorBody.askFailed(failure, "membership or the stabilizer", timeout, "")
                    : answer);
  }

  private HttpResponse answer(MembershipActor.Members members, StabilizationPlanner.Status status) {
    RingSnapshot snapshot = ring.current();
    Set<String> ringMembers = new TreeSet<>(snapshot.ring().members());
    ringMembers.addAll(snapshot.next().members());
    Map<String, String> swim = new HashMap<>();
    for (Member m : members.members()) {
      swim.put(m.name(), m.status().name());
    }
    Readiness r =
        Readiness.judge(self, snapshot.epoch(), ringMembers, swim, status.recoveringRanges());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ready", r.ready());
    body.put("node", self);
    body.put("epoch", r.epoch());
    body.put("ringMembers", r.ringMembers());
    body.put("reachable", r.reachable());
    body.put("reasons", r.reasons());
    return HttpResponse.create()
        .withStatus(r.ready() ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE)
        .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body));
  }
}
