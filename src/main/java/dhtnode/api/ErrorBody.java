package dhtnode.api;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

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

  static byte[] json(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render JSON", e);
    }
  }
}
