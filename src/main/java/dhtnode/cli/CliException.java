package dhtnode.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** A dhtctl command that cannot go on: one line for the user and the process's exit status. */
final class CliException extends RuntimeException {
  /** The node answered with an error (4xx/5xx), e.g. 503 for a quorum it cannot reach. */
  static final int FAILED = 1;

  /** Bad arguments. */
  static final int USAGE = 2;

  /** The node could not be reached at all. */
  static final int UNREACHABLE = 3;

  /** A read of a key that does not exist. */
  static final int NOT_FOUND = 4;

  final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  /**
   * An error answer, in one line: status, and the error body's code and message when it has them.
   */
  static CliException answered(String address, HttpResponse<byte[]> response) {
    String body = new String(response.body(), StandardCharsets.UTF_8).strip();
    String detail = body;
    try {
      JsonNode error = NodeClient.JSON.readTree(body);
      if (error != null && error.has("error")) {
        detail = error.path("error").asText() + ": " + error.path("message").asText();
      }
    } catch (IOException e) {
      // not JSON: the body as it is
    }
    if (detail.length() > 300) {
      detail = detail.substring(0, 300) + "...";
    }
    return new CliException(
        FAILED,
        address
            + " answered "
            + response.statusCode()
            + (detail.isEmpty() ? "" : " (" + detail.replace('\n', ' ') + ")"));
  }
}
