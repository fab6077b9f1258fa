package dhtnode.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The REST calls dhtctl makes to one node, answered as JSON or as a {@link CliException}. */
final class NodeClient {
  static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final String address;
  private final Duration timeout;

  /**
   * @param address {@code host:port} of the node's HTTP API
   */
  NodeClient(String address, Duration timeout) {
    this.address = address;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  String address() {
    return address;
  }

  /** The same client aimed at another node. */
  NodeClient at(String otherAddress) {
    return new NodeClient(otherAddress, timeout);
  }

  /** GET a JSON document; any answer but 200 is a {@link CliException}. */
  JsonNode json(String path) {
    return parse(expect(send("GET", path, null, null), 200));
  }

  /** POST with no body, expecting a 2xx and a JSON answer. */
  JsonNode post(String path) {
    HttpResponse<byte[]> response = send("POST", path, null, null);
    if (response.statusCode() / 100 != 2) {
      throw CliException.answered(address, response);
    }
    return parse(response);
  }

  /** The raw answer, whatever its status; only an unreachable node is a {@link CliException}. */
  HttpResponse<byte[]> send(String method, String path, byte[] body, String contentType) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://" + address + path))
            .timeout(timeout)
            .method(
                method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    try {
      return http.send(request.build(), BodyHandlers.ofByteArray());
    } catch (IOException e) {
      String why =
          e instanceof java.net.ConnectException
              ? "connection refused"
              : e instanceof java.net.http.HttpTimeoutException
                  ? "no answer within " + timeout.toSeconds() + " s"
                  : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new CliException(
          CliException.UNREACHABLE, "cannot reach the node at " + address + " (" + why + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(CliException.UNREACHABLE, "interrupted while asking " + address);
    } catch (IllegalArgumentException e) {
      throw new CliException(
          CliException.USAGE, "not a node address: " + address + " (expected host:port)");
    }
  }

  /** {@code /d/KEY} with the key percent-encoded, and the consistency level if one is given. */
  static String dataPath(String key, String consistency) {
    String path = "/d/" + encodeSegment(key);
    return consistency == null ? path : path + "?consistency=" + consistency;
  }

  /** A path segment percent-encoded (a space as %20, not +). */
  static String encodeSegment(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  HttpResponse<byte[]> expect(HttpResponse<byte[]> response, int status) {
    if (response.statusCode() != status) {
      throw CliException.answered(address, response);
    }
    return response;
  }

  private JsonNode parse(HttpResponse<byte[]> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new CliException(CliException.FAILED, address + " answered something other than JSON");
    }
  }
}
