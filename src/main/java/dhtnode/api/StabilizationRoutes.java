package dhtnode.api;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import dhtnode.stabilization.StabilizationPlanner;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /cluster/stabilization} (pending ranges, fills and repairs in flight, totals) and
 * {@code POST /cluster/repair} (start an anti-entropy round now; 202 with what was started).
 */
public final class StabilizationRoutes extends ClusterAskRoutes<StabilizationPlanner.Command> {

  public StabilizationRoutes(
      ActorSystem<?> system, ActorRef<StabilizationPlanner.Command> planner, Duration timeout) {
    super(system, planner, timeout);
  }

  public Route route() {
    return underCluster(
        // readable from any origin: the cluster page polls every member's own pending ranges
        path("stabilization", () -> get(() -> CrossOrigin.readableFromAnyOrigin(status()))),
        path("repair", () -> post(this::repair)));
  }

  private Route status() {
    CompletionStage<StabilizationPlanner.Status> status = ask(StabilizationPlanner.GetStatus::new);
    return completeWithFuture(
        status.handle(
            (s, failure) ->
                failure != null
                    ? ErrorBody.askFailed(failure, "the stabilizer", timeout, "")
                    : HttpResponse.create()
                        .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(s))));
  }

  private Route repair() {
    CompletionStage<StabilizationPlanner.RepairStarted> started =
        ask(StabilizationPlanner.RepairNow::new);
    return completeWithFuture(
        started.handle(
            (s, failure) -> {
              if (failure != null) {
                return ErrorBody.askFailed(failure, "the stabilizer", timeout, "");
              }
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("sessions", s.sessions());
              body.put("peers", s.peers());
              return HttpResponse.create()
                  .withStatus(StatusCodes.ACCEPTED)
                  .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body));
            }));
  }
}
