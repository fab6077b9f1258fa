package dhtnode.api;

import akka.event.LoggingAdapter;
import akka.http.ParsingErrorHandler;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.scaladsl.model.ErrorInfo;
import akka.http.scaladsl.model.StatusCode;
import akka.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests that Akka HTTP rejects before routing (a URI over the length limit, an illegal
 * character in the request line, a malformed header) with the same JSON error body as every other
 * error. Installed through {@code ServerSettings.withParsingErrorHandler}.
 */
public final class JsonParsingErrorHandler extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    if (log.isDebugEnabled()) {
      log.debug("rejected unparsable request: {}", info.formatPretty());
    }
    int code = status.intValue();
    if (code == 505) {
      // Akka reads "GET /d/a b HTTP/1.1" as protocol "b HTTP/1.1": almost always an unencoded
      // space in the URI, a client error
      return ErrorBody.response(
          StatusCodes.BAD_REQUEST,
          "bad_request",
          "malformed request line: percent-encode spaces in the key (%20)");
    }
    String error =
        code == StatusCodes.URI_TOO_LONG.intValue()
            ? "uri_too_long"
            : code == StatusCodes.PAYLOAD_TOO_LARGE.intValue()
                ? "value_too_large"
                : code == StatusCodes.REQUEST_HEADER_FIELDS_TOO_LARGE.intValue()
                    ? "headers_too_large"
                    : "bad_request";
    return ErrorBody.response(StatusCodes.get(code), error, info.summary());
  }
}
