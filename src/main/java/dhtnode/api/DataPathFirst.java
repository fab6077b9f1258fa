package dhtnode.api;

import akka.NotUsed;
import akka.actor.ActorSystem;
import akka.actor.ClassicActorSystemProvider;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.server.RequestContext;
import akka.http.scaladsl.server.RouteResult;
import akka.japi.function.Function;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import scala.Function1;
import scala.concurrent.Future;

/**
 * The node's API as one {@link Route}, bound through {@link #handler}: data requests ({@code GET},
 * {@code PUT}, {@code POST}, {@code DELETE} on {@code /d/...}) go straight to a request handler
 * function, everything else to the routing DSL. The DSL builds a request context, a chain of
 * directive closures, rejection and exception handling for each request; the data path needs none
 * of it, and it carries nearly all the load. Answers are the same either way: every other view of
 * this route ({@link #asScala}, {@link #flow}, {@link #seal}, {@link #orElse}) is {@code dsl},
 * which serves the data path through the same function.
 */
final class DataPathFirst implements Route {
  /** The data path: a response for a data request, or empty for any other request. */
  interface DataHandler {
    Optional<CompletionStage<HttpResponse>> serve(HttpRequest request);
  }

  private final Route dsl;
  private final Route dslUnlogged;
  private final DataHandler data;
  private final AccessLog accessLog;

  /**
   * @param dsl the whole API in the routing DSL, access log included
   * @param dslUnlogged the same without the access log, for what the handler does not serve
   */
  DataPathFirst(Route dsl, Route dslUnlogged, DataHandler data, AccessLog accessLog) {
    this.dsl = dsl;
    this.dslUnlogged = dslUnlogged;
    this.data = data;
    this.accessLog = accessLog;
  }

  @Override
  public Function<HttpRequest, CompletionStage<HttpResponse>> handler(
      ClassicActorSystemProvider system) {
    Function<HttpRequest, CompletionStage<HttpResponse>> rest = dslUnlogged.handler(system);
    return accessLog.around(
        request -> {
          Optional<CompletionStage<HttpResponse>> served = data.serve(request);
          return served.isPresent() ? served.get() : rest.apply(request);
        });
  }

  @Override
  public Function1<RequestContext, Future<RouteResult>> delegate() {
    return dsl.delegate();
  }

  @Override
  public Function1<RequestContext, Future<RouteResult>> asScala() {
    return dsl.asScala();
  }

  @Override
  @SuppressWarnings("deprecation")
  public Flow<HttpRequest, HttpResponse, NotUsed> flow(
      ActorSystem system, Materializer materializer) {
    return dsl.flow(system, materializer);
  }

  @Override
  public Flow<HttpRequest, HttpResponse, NotUsed> flow(ClassicActorSystemProvider system) {
    return dsl.flow(system);
  }

  @Override
  public Route seal() {
    return dsl.seal();
  }

  @Override
  public Route seal(RejectionHandler rejectionHandler, ExceptionHandler exceptionHandler) {
    return dsl.seal(rejectionHandler, exceptionHandler);
  }

  @Override
  public Route orElse(Route alternative) {
    return dsl.orElse(alternative);
  }
}
