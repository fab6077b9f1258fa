package dhtnode.api;

import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import dhtnode.metrics.Metrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /metrics}: every meter of the node in Prometheus' text format; {@code GET
 * /metrics?format=json}: the request meters as JSON (count, total seconds, 503s and the cumulative
 * histogram), readable from any origin, for the cluster page to turn two readings into a rate and a
 * p99.
 */
public final class MetricsRoutes extends AllDirectives {
  private static final ContentType.NonBinary PROMETHEUS_TEXT =
      (ContentType.NonBinary) ContentTypes.parse(Metrics.CONTENT_TYPE);

  private final Metrics metrics;

  public MetricsRoutes(Metrics metrics) {
    this.metrics = metrics;
  }

  public Route route() {
    // parameterOptional: the answer is built per request, not once when the route is built
    return path(
        "metrics",
        () ->
            get(
                () ->
                    parameterOptional(
                        "format",
                        format -> CrossOrigin.readableFromAnyOrigin(complete(answer(format))))));
  }

  private HttpResponse answer(Optional<String> format) {
    if (format.isEmpty()) {
      return HttpResponse.create()
          .withEntity(HttpEntities.create(PROMETHEUS_TEXT, metrics.scrape()));
    }
    if (format.get().equals("json")) {
      return HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(requests(metrics)));
    }
    return ErrorBody.response(
        StatusCodes.BAD_REQUEST,
        "bad_format",
        "format must be json, or absent for Prometheus text; was \"" + format.get() + "\"");
  }

  static Map<String, Object> requests(Metrics metrics) {
    Metrics.RequestTotals totals = metrics.requestTotals();
    List<Map<String, Object>> buckets = new ArrayList<>();
    for (int i = 0; i < totals.bounds().length; i++) {
      Map<String, Object> bucket = new LinkedHashMap<>();
      bucket.put("le", totals.bounds()[i]);
      bucket.put("count", totals.cumulative()[i]);
      buckets.add(bucket);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("requests", totals.count());
    body.put("requestSeconds", totals.sumSeconds());
    body.put("unavailable", totals.unavailable());
    body.put("buckets", buckets);
    return body;
  }
}
