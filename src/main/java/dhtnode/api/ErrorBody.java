package dhtnode.api;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * Every error the API returns: a status and a JSON body {@code {"error": code, "message": text}},
 * never a stack trace. Extra fields (such as which replicas answered) go after those two.
 */
public final class ErrorBody {
  static final ObjectMapper JSON = new ObjectMapper();

  private ErrorBody() {}

  public static HttpResponse response(StatusCode status, String code, String message) {
    return response(status, code, message, Map.of());
  }

  public static HttpResponse response(
      StatusCode status, String code, String message, Map<String, ?> extra) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", code);
    body.put("message", message);
    body.putAll(extra);
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ContentTypes.APPLICATION_JSON, json(body));
  }

  /**
   * The one 503 for an ask that failed: {@code timeout} when {@code who} did not answer within
   * {@code timeout}, {@code unavailable} for any other failure; {@code note} (may be empty) is
   * appended to the message, e.g. that a write's outcome is unknown.
   */
  public static HttpResponse askFailed(
      Throwable failure, String who, Duration timeout, String note) {
    Throwable cause = unwrap(failure);
    String suffix = note.isEmpty() ? "" : "; " + note;
    if (cause instanceof TimeoutException) {
      return response(
          StatusCodes.SERVICE_UNAVAILABLE,
          "timeout",
          who + " did not answer within " + timeout.toMillis() + " ms" + suffix);
    }
    return response(
        StatusCodes.SERVICE_UNAVAILABLE,
        "unavailable",
        who + " could not answer: " + cause.getMessage() + suffix);
  }

  /** Whether an ask failed because it ran out of time. */
  public static boolean isTimeout(Throwable failure) {
    return unwrap(failure) instanceof TimeoutException;
  }

  /** The failure inside the {@link CompletionException}s a completion stage wraps it in. */
  static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  static byte[] json(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render JSON", e);
    }
  }
}
