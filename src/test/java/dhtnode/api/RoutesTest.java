package dhtnode.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dhtnode.metrics.Metrics;
import dhtnode.node.NodeSettings;
import dhtnode.replication.Replica;
import dhtnode.replication.ReplicaCoordinator;
import dhtnode.replication.ReplicaLocator;
import dhtnode.storage.HybridClock;
import dhtnode.storage.InMemoryEngine;
import dhtnode.storage.StorageActor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The REST contract against a real binding on 127.0.0.1:0, driven by java.net.http. */
class RoutesTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static ServerBinding binding;
  static String base;
  static int port;
  static Routes routes;

  @BeforeAll
  static void bind() throws Exception {
    NodeSettings settings =
        NodeSettings.from(
            ConfigFactory.parseString(
                    "dht.node.name = test-node\n"
                        + "dht.storage.engine = memory\n"
                        + "dht.http.max-value-size = 1MiB\n"
                        + "dht.http.max-key-size = 200\n"
                        // one node, so every request is served by its own storage
                        + "dht.replication { factor = 1, read-quorum = 1, write-quorum = 1 }\n")
                .withFallback(ConfigFactory.defaultReference())
                .resolve());
    ActorRef<StorageActor.Command> storage =
        testKit.spawn(StorageActor.create(InMemoryEngine::new));
    routes =
        new Routes(
            settings.http,
            settings.replication,
            settings.name,
            testKit.system(),
            storage,
            ReplicaLocator.fixed(List.of(new Replica("test-node", storage))),
            null,
            new HybridClock(),
            null,
            ReplicaCoordinator.EpochListener.IGNORE,
            new Metrics("test-node"));
    binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .withSettings(settings.http.serverSettings(testKit.system()))
            .bind(routes.route())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    port = binding.localAddress().getPort();
    base = "http://127.0.0.1:" + port;
  }

  @AfterAll
  static void shutdown() throws Exception {
    binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  /** Percent-encodes every byte outside RFC 3986's unreserved set. */
  static String encode(String key) {
    StringBuilder out = new StringBuilder();
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "-_~".indexOf(c) >= 0) {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  static HttpResponse<byte[]> send(
      String method, String pathAndQuery, byte[] body, String contentType) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(10));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    b.method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body));
    return client.send(b.build(), BodyHandlers.ofByteArray());
  }

  static HttpResponse<byte[]> get(String path) throws Exception {
    return send("GET", path, null, null);
  }

  static HttpResponse<byte[]> put(String path, String body) throws Exception {
    return send("PUT", path, body.getBytes(StandardCharsets.UTF_8), "text/plain; charset=UTF-8");
  }

  static JsonNode json(HttpResponse<byte[]> response) throws IOException {
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    return JSON.readTree(response.body());
  }

  static void assertError(HttpResponse<byte[]> response, int status, String code)
      throws IOException {
    assertEquals(
        status, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
    JsonNode body = json(response);
    assertEquals(code, body.path("error").asText(), body.toString());
    assertTrue(body.path("message").asText().length() > 0, body.toString());
    assertTrue(
        !body.toString().contains("at akka.") && !body.toString().contains("Exception"),
        body.toString());
  }

  static void assertHealthy() throws Exception {
    HttpResponse<byte[]> health = get("/health");
    assertEquals(200, health.statusCode());
    assertEquals("ok", json(health).path("status").asText());
  }

  @Test
  void putGetDeleteRoundTrip() throws Exception {
    HttpResponse<byte[]> written = put("/d/greeting", "hello");
    assertEquals(200, written.statusCode());
    String version = json(written).path("version").asText();
    assertTrue(version.endsWith("@test-node"), version);

    HttpResponse<byte[]> read = get("/d/greeting");
    assertEquals(200, read.statusCode());
    assertEquals("hello", new String(read.body(), StandardCharsets.UTF_8));
    assertEquals(
        "text/plain; charset=UTF-8", read.headers().firstValue("Content-Type").orElseThrow());
    assertEquals(version, read.headers().firstValue(Routes.VERSION_HEADER).orElseThrow());

    HttpResponse<byte[]> deleted = send("DELETE", "/d/greeting", null, null);
    assertEquals(200, deleted.statusCode());
    assertTrue(json(deleted).path("deleted").asBoolean());
    HttpResponse<byte[]> gone = get("/d/greeting");
    assertError(gone, 404, "not_found");
    assertEquals(
        json(deleted).path("version").asText(),
        gone.headers().firstValue(Routes.VERSION_HEADER).orElseThrow(),
        "a deleted key names the delete's version");
    assertTrue(get("/d/never-written").headers().firstValue(Routes.VERSION_HEADER).isEmpty());
  }

  @Test
  void postStoresLikePutAndALaterWriteWins() throws Exception {
    assertEquals(
        200,
        send("POST", "/d/counter", "1".getBytes(StandardCharsets.UTF_8), "text/plain")
            .statusCode());
    assertEquals(
        200,
        send("POST", "/d/counter", "2".getBytes(StandardCharsets.UTF_8), "text/plain")
            .statusCode());
    assertEquals("2", new String(get("/d/counter").body(), StandardCharsets.UTF_8));
  }

  @Test
  void binaryValuesComeBackByteForByteWithTheirContentType() throws Exception {
    byte[] bytes = new byte[70_000];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 31);
    }
    assertEquals(200, send("PUT", "/d/blob", bytes, "image/png").statusCode());
    HttpResponse<byte[]> read = get("/d/blob");
    assertArrayEquals(bytes, read.body());
    assertEquals("image/png", read.headers().firstValue("Content-Type").orElseThrow());
  }

  @Test
  void clientChosenContentTypesComeBackRightWhileTheCacheOfThemStaysBounded() throws Exception {
    int types = Routes.CONTENT_TYPES_CACHED + 40;
    for (int i = 0; i < types; i++) {
      assertEquals(
          200,
          send("PUT", "/d/typed-" + i, new byte[] {(byte) i}, "application/x-type-" + i)
              .statusCode());
    }
    for (int i = 0; i < types; i++) {
      assertEquals(
          "application/x-type-" + i,
          get("/d/typed-" + i).headers().firstValue("Content-Type").orElseThrow(),
          "typed-" + i);
    }
    assertTrue(
        routes.contentTypesCached() <= Routes.CONTENT_TYPES_CACHED,
        "cached " + routes.contentTypesCached() + " content types");
  }

  @Test
  void aValueWithoutContentTypeIsServedAsOctetStream() throws Exception {
    assertEquals(200, send("PUT", "/d/untyped", new byte[] {1, 2, 3}, null).statusCode());
    assertEquals(
        "application/octet-stream",
        get("/d/untyped").headers().firstValue("Content-Type").orElseThrow());
  }

  @Test
  void anyUtf8KeyWorksWhenPercentEncoded() throws Exception {
    List<String> keys =
        List.of(
            "a/b",
            "with space",
            "q?x=1&y=2",
            "#hash",
            "100%",
            "emoji-🔑",
            "ключ",
            "a+b",
            "semi;colon",
            "~tilde",
            "..",
            ".");
    for (String key : keys) {
      assertEquals(200, put("/d/" + encode(key), "v:" + key).statusCode(), key);
    }
    for (String key : keys) {
      HttpResponse<byte[]> read = get("/d/" + encode(key));
      assertEquals(200, read.statusCode(), key);
      assertEquals("v:" + key, new String(read.body(), StandardCharsets.UTF_8), key);
    }
  }

  @Test
  void anUnencodedSlashIsPartOfTheKey() throws Exception {
    put("/d/dir/file", "nested");
    assertEquals("nested", new String(get("/d/dir%2Ffile").body(), StandardCharsets.UTF_8));
  }

  @Test
  void consistencyLevelsAreAcceptedAndValidated() throws Exception {
    put("/d/levels", "x");
    for (String level : List.of("one", "quorum", "all", "QUORUM")) {
      assertEquals(200, get("/d/levels?consistency=" + level).statusCode(), level);
    }
    assertError(get("/d/levels?consistency=most"), 400, "bad_consistency");
    assertError(
        send("PUT", "/d/levels?consistency=", "y".getBytes(StandardCharsets.UTF_8), null),
        400,
        "bad_consistency");
    assertEquals(
        405, send("PATCH", "/d/levels", "z".getBytes(StandardCharsets.UTF_8), null).statusCode());
  }

  @Test
  void malformedKeysAre400() throws Exception {
    assertError(get("/d/"), 400, "bad_key");
    assertError(get("/d"), 400, "bad_key");
    assertError(get("/d/%FF%FE"), 400, "bad_key"); // not UTF-8
    assertHealthy();
  }

  @Test
  void malformedRequestLinesGetJsonErrorsToo() throws Exception {
    RawResponse badEscape = raw("GET /d/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertEquals(400, badEscape.status);
    assertTrue(badEscape.body.contains("\"error\""), badEscape.body);
    RawResponse space = raw("GET /d/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertEquals(400, space.status);
    RawResponse badQuery =
        raw("GET /d/k?consistency=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertEquals(400, badQuery.status, badQuery.body);
    assertTrue(badQuery.body.contains("\"error\""), badQuery.body);
    assertHealthy();
  }

  @Test
  void wrongMethodIs405AndUnknownPathIs404() throws Exception {
    HttpResponse<byte[]> patch = send("PATCH", "/d/k", "x".getBytes(StandardCharsets.UTF_8), null);
    assertError(patch, 405, "method_not_allowed");
    assertTrue(patch.headers().firstValue("Allow").isPresent());
    assertError(get("/nowhere"), 404, "not_found");
    assertError(send("POST", "/health", new byte[0], null), 405, "method_not_allowed");
  }

  @Test
  void aKeyOverTheLimitIs414AndSoIsAnOverlongUri() throws Exception {
    assertError(get("/d/" + "k".repeat(201)), 414, "key_too_long");
    assertEquals(200, put("/d/" + "k".repeat(200), "fits").statusCode());
    assertError(get("/d/" + "k".repeat(5000)), 414, "uri_too_long");
    assertHealthy();
  }

  @Test
  void aValueOverTheLimitIs413() throws Exception {
    assertEquals(200, send("PUT", "/d/big", new byte[1 << 20], null).statusCode());
    assertError(send("PUT", "/d/big", new byte[(1 << 20) + 1], null), 413, "value_too_large");
    assertEquals(1 << 20, get("/d/big").body().length, "the stored value is untouched");
  }

  @Test
  void smallBodiesAndChunkedBodiesAreStoredByteForByte() throws Exception {
    // a small body arrives whole with its headers (the strict path); a chunked one is streamed
    byte[] small = "one small value".getBytes(StandardCharsets.UTF_8);
    assertEquals(200, send("PUT", "/d/small", small, null).statusCode());
    assertArrayEquals(small, get("/d/small").body());
    byte[] large = new byte[300_000];
    for (int i = 0; i < large.length; i++) {
      large[i] = (byte) (i * 31 + 7);
    }
    HttpRequest chunked =
        HttpRequest.newBuilder(URI.create(base + "/d/streamed"))
            .PUT(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(large)))
            .build();
    assertEquals(200, client.send(chunked, BodyHandlers.ofByteArray()).statusCode());
    assertArrayEquals(large, get("/d/streamed").body());
  }

  @Test
  void aChunkedValueThatGrowsPastTheLimitIs413() throws Exception {
    // ofInputStream has no known length, so the client sends Transfer-Encoding: chunked
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + "/d/chunked"))
            .PUT(
                BodyPublishers.ofInputStream(
                    () -> new java.io.ByteArrayInputStream(new byte[3 << 20])))
            .build();
    int status;
    try {
      status = client.send(request, BodyHandlers.ofByteArray()).statusCode();
    } catch (IOException e) {
      status = 413; // answered and closed before the client finished sending
    }
    assertEquals(413, status);
    assertError(get("/d/chunked"), 404, "not_found");
    assertHealthy();
  }

  @Test
  void a20MiBBodyIsRejectedAndTheNodeStaysHealthy() throws Exception {
    put("/d/survivor", "still here");
    int status;
    try {
      status = send("PUT", "/d/huge", new byte[20 << 20], "application/octet-stream").statusCode();
    } catch (IOException e) {
      // the server answers 413 and closes before the client has sent the whole body; some
      // clients then report the reset instead of the response
      status = 413;
    }
    assertEquals(413, status);
    assertHealthy();
    assertError(get("/d/huge"), 404, "not_found");
    assertEquals("still here", new String(get("/d/survivor").body(), StandardCharsets.UTF_8));
  }

  @Test
  void healthSaysOkWithTheNodeName() throws Exception {
    HttpResponse<byte[]> health = get("/health");
    assertEquals(200, health.statusCode());
    assertEquals("test-node", json(health).path("node").asText());
  }

  record RawResponse(int status, String body) {}

  /** Sends bytes that java.net.URI would refuse to build, as a misbehaving client would. */
  static RawResponse raw(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.UTF_8);
      int status = Integer.parseInt(text.substring(9, 12));
      int bodyAt = text.indexOf("\r\n\r\n");
      return new RawResponse(status, bodyAt < 0 ? "" : text.substring(bodyAt + 4));
    }
  }
}
