package dhtnode.api;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import dhtnode.ring.RingActor;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The operator's ring changes, each one agreed as an epoch by the ring actor:
 *
 * <ul>
 *   <li>{@code POST /cluster/remove/{node}}: force the removal of a member that is gone for good
 *       (DEAD or LEFT in SWIM), even where ranges only it held are lost: 200 once committed; 404 if
 *       it is in no ring set, 409 if it is ALIVE (decommission it instead), 400 for this node.
 *   <li>{@code POST /cluster/decommission}: move this node's ranges out and stop it once a stable
 *       epoch without it is committed: 202 once the transition is committed; 409 if this node is
 *       not in the target ring or is its only member.
 * </ul>
 *
 * 503 when the epoch is not committed in time (no majority reachable); the request stays in force
 * on this node and may still commit.
 */
public final class RingOperatorRoutes extends ClusterAskRoutes<RingActor.Command> {

  public RingOperatorRoutes(
      ActorSystem<?> system, ActorRef<RingActor.Command> ring, Duration timeout) {
    super(system, ring, timeout);
  }

  public Route route() {
    return underCluster(
        pathPrefix("remove", () -> path(PathMatchers.segment(), node -> post(() -> remove(node)))),
        path("decommission", () -> post(this::decommission)));
  }

  private Route remove(String node) {
    CompletionStage<RingActor.OperatorReply> reply = ask(r -> new RingActor.ForceRemove(node, r));
    return completeWithFuture(
        reply.handle((r, failure) -> answer(r, failure, StatusCodes.OK, "removed", node)));
  }

  private Route decommission() {
    CompletionStage<RingActor.OperatorReply> reply = ask(RingActor.Decommission::new);
    return completeWithFuture(
        reply.handle(
            (r, failure) -> answer(r, failure, StatusCodes.ACCEPTED, "decommissioning", null)));
  }

  private HttpResponse answer(
      RingActor.OperatorReply reply, Throwable failure, StatusCode ok, String what, String node) {
    if (failure != null) {
      return ErrorBody.response(
          StatusCodes.SERVICE_UNAVAILABLE,
          "not_committed",
          "no ring epoch committed it within "
              + timeout.toMillis()
              + " ms (is a majority of the ring reachable?); "
              + "the request stays in force on this node");
    }
    if (reply instanceof RingActor.OperatorRefused refused) {
      StatusCode status =
          switch (refused.reason()) {
            case "not-found" -> StatusCodes.NOT_FOUND;
            case "bad-request" -> StatusCodes.BAD_REQUEST;
            default -> StatusCodes.CONFLICT;
          };
      return ErrorBody.response(status, refused.reason().replace('-', '_'), refused.message());
    }
    RingActor.OperatorDone done = (RingActor.OperatorDone) reply;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put(what, node != null ? node : true);
    body.put("epoch", done.epoch());
    body.put("change", done.change());
    return HttpResponse.create()
        .withStatus(ok)
        .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body));
  }
}
