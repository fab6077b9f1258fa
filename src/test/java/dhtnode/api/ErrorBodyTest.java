package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class ErrorBodyTest {
  static JsonNode body(HttpResponse response) throws Exception {
    return ErrorBody.JSON.readTree(((HttpEntity.Strict) response.entity()).getData().toArray());
  }

  @Test
  void anAskThatTimedOutIsA503TimeoutNamingWhoAndHowLong() throws Exception {
    HttpResponse r =
        ErrorBody.askFailed(
            new CompletionException(new TimeoutException("ask timed out")),
            "membership",
            Duration.ofMillis(1500),
            "");
    assertEquals(503, r.status().intValue());
    assertEquals("timeout", body(r).get("error").asText());
    assertEquals("membership did not answer within 1500 ms", body(r).get("message").asText());
  }

  @Test
  void anyOtherFailureIsA503UnavailableWithTheNoteAppended() throws Exception {
    HttpResponse r =
        ErrorBody.askFailed(
            new IllegalStateException("stopped"),
            "the request's coordinator",
            Duration.ofSeconds(2),
            "the outcome of a write is unknown");
    assertEquals(503, r.status().intValue());
    assertEquals("unavailable", body(r).get("error").asText());
    assertEquals(
        "the request's coordinator could not answer: stopped; the outcome of a write is unknown",
        body(r).get("message").asText());
  }
}
