package dhtnode.api;

import akka.http.javadsl.model.headers.AccessControlAllowOrigin;
import akka.http.javadsl.model.headers.HttpOriginRanges;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;

/**
 * Lets a page served by another member read a route's answers: the cluster page on node1 polls
 * every member's own {@code /ready}, {@code /metrics?format=json} and {@code
 * /cluster/stabilization} at that member's HTTP address, which is another origin. Only for
 * read-only status routes, never for {@code /d/}: any origin may read them, without credentials, as
 * any client that reaches the node can already.
 */
final class CrossOrigin extends AllDirectives {
  private static final CrossOrigin DIRECTIVES = new CrossOrigin();
  private static final AccessControlAllowOrigin ANY =
      AccessControlAllowOrigin.create(HttpOriginRanges.ALL);

  private CrossOrigin() {}

  /** {@code route} with {@code Access-Control-Allow-Origin: *} on every answer. */
  static Route readableFromAnyOrigin(Route route) {
    return DIRECTIVES.respondWithHeader(ANY, () -> route);
  }
}
