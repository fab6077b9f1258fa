package dhtnode.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What the process tests share about a cluster of node processes: how to reach node K's REST API,
 * and how node K's conf file is made from the shipped conf/nodeK.conf. {@link ProcessCluster} runs
 * the nodes on loopback with the scripts; {@link NetnsCluster} runs each in its own network
 * namespace so links between them can be cut.
 */
interface NodeHttp {
  HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Node K's HTTP base address, e.g. {@code http://127.0.0.1:18000}. */
  String baseUrl(int node);

  default HttpResponse<String> send(int node, String method, String path, String body)
      throws IOException, InterruptedException {
    return HTTP.send(request(node, method, path, body), BodyHandlers.ofString());
  }

  /**
   * The same request without waiting for it: many requests that each wait out a node's timeout (a
   * 503 for a key without a quorum) take one timeout together, not one each.
   */
  default CompletableFuture<HttpResponse<String>> sendAsync(
      int node, String method, String path, String body) {
    return HTTP.sendAsync(request(node, method, path, body), BodyHandlers.ofString());
  }

  private HttpRequest request(int node, String method, String path, String body) {
    return HttpRequest.newBuilder(URI.create(baseUrl(node) + path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "text/plain; charset=UTF-8")
        .method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body))
        .build();
  }

  /**
   * The shipped conf/nodeK.conf with only the ports moved (node K listens on HTTP {@code httpBase +
   * K - 1} and cluster port {@code clusterBase + K - 1}), plus the lines given: the seed, and for a
   * namespaced node its address.
   */
  static String nodeConf(Path project, int k, int httpBase, int clusterBase, String extraLines)
      throws IOException {
    return Files.readString(project.resolve("conf/node" + k + ".conf"))
            .replace("http-port = " + (8000 + k - 1), "http-port = " + (httpBase + k - 1))
            .replace("cluster-port = " + (7000 + k - 1), "cluster-port = " + (clusterBase + k - 1))
        + extraLines
        + "\n";
  }
}
