package dhtnode.api;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import dhtnode.metrics.Metrics;

/** {@code GET /metrics}: every meter of the node in Prometheus' text format. */
public final class MetricsRoutes extends AllDirectives {
  private static final ContentType.NonBinary PROMETHEUS_TEXT =
      (ContentType.NonBinary) ContentTypes.parse(Metrics.CONTENT_TYPE);

  private final Metrics metrics;

  public MetricsRoutes(Metrics metrics) {
    this.metrics = metrics;
  }

  public Route route() {
    // extractRequest: the scrape runs per request, not once when the route is built
    return path(
        "metrics",
        () ->
            get(
                () ->
                    extractRequest(
                        request ->
                            complete(
                                HttpResponse.create()
                                    .withEntity(
                                        HttpEntities.create(PROMETHEUS_TEXT, metrics.scrape()))))));
  }
}
