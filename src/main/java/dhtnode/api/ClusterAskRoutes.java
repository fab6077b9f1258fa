package dhtnode.api;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.japi.function.Function;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * The frame of {@code /cluster/...} routes that answer by asking one actor of this node: the ask,
 * bounded by the HTTP request timeout, and the path prefix.
 */
abstract class ClusterAskRoutes<T> extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<T> target;

  /** How long an ask may take before the route answers 503. */
  final Duration timeout;

  ClusterAskRoutes(ActorSystem<?> system, ActorRef<T> target, Duration timeout) {
    this.system = system;
    this.target = target;
    this.timeout = timeout;
  }

  /** Asks the target actor; the stage fails after {@link #timeout}. */
  final <R> CompletionStage<R> ask(Function<ActorRef<R>, T> message) {
    return AskPattern.ask(target, message, timeout, system.scheduler());
  }

  /** {@code first} and {@code more}, tried in order, under {@code /cluster}. */
  final Route underCluster(Route first, Route... more) {
    return pathPrefix("cluster", () -> concat(first, more));
  }
}
