package dhtnode.api;

import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;

/**
 * {@code GET /}: the live cluster page, and {@code GET /page/*}: its script and style sheet, served
 * from the jar ({@code dhtnode/page/} on the classpath). The page is static; it polls this node's
 * {@code /cluster/*} routes and every member's own {@code /ready}, {@code /metrics?format=json} and
 * {@code /cluster/stabilization} from the browser, so serving it costs the node nothing.
 */
public final class ClusterPageRoutes extends AllDirectives {
  static final String RESOURCES = "dhtnode/page";

  public Route route() {
    return concat(
        pathSingleSlash(() -> get(() -> getFromResource(RESOURCES + "/index.html"))),
        // Akka refuses ".." and absolute names under a resource directory
        pathPrefix("page", () -> get(() -> getFromResourceDirectory(RESOURCES))));
  }
}
