package dhtnode.api;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpMethod;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.IllegalUriException;
import akka.stream.StreamLimitReachedException;
import akka.util.ByteString;
import dhtnode.common.Consistency;
import dhtnode.metrics.Metrics;
import dhtnode.replication.ClockKeeper;
import dhtnode.replication.Quorum;
import dhtnode.replication.ReplicaCoordinator;
import dhtnode.replication.ReplicaCoordinator.Operation;
import dhtnode.replication.ReplicaLocator;
import dhtnode.replication.ReplicationSettings;
import dhtnode.storage.HybridClock;
import dhtnode.storage.StorageActor;
import dhtnode.storage.Versioned;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API of a node (see the contract in README.md): {@code /d/{key}} for data and {@code
 * /health}. Every failure, including Akka HTTP's own rejections, is a JSON error body with the
 * right status; nothing a client sends can make the node answer 500 with a stack trace.
 */
public final class Routes extends AllDirectives {
  /** Header carrying the version of the value returned or stored. */
  public static final String VERSION_HEADER = "X-Dht-Version";

  private static final Logger log = LoggerFactory.getLogger(Routes.class);

  private final HttpSettings settings;
  private final ReplicationSettings replication;
  private final String nodeName;
  private final ActorSystem<?> system;
  private final ActorRef<StorageActor.Command> storage;
  private final ReplicaCoordinator.Node coordinators;
  private final Metrics metrics;
  private final Duration timeout;
  private final Duration askTimeout;
  private final AtomicLong requestIds = new AtomicLong();
  static final int CONTENT_TYPES_CACHED = 64;
  private final Map<String, ContentType> contentTypes = new ConcurrentHashMap<>();

  /**
   * @param remoteReplies how other nodes' replicas answer this node's coordinators; null to have
   *     them answer each coordinator directly (no router: tests)
   * @param clockKeeper the keeper of a reserving {@code clock}; null for one that reserves nothing
   * @param epochs told when a replica answered from a later ring epoch, so the ring catches up
   */
  public Routes(
      HttpSettings settings,
      ReplicationSettings replication,
      String nodeName,
      ActorSystem<?> system,
      ActorRef<StorageActor.Command> storage,
      ReplicaLocator replicas,
      ReplicaCoordinator.RemoteReplies remoteReplies,
      HybridClock clock,
      ActorRef<ClockKeeper.Command> clockKeeper,
      ReplicaCoordinator.EpochListener epochs,
      Metrics metrics) {
    this.settings = settings;
    this.replication = replication;
    this.nodeName = nodeName;
    this.system = system;
    this.storage = storage;
    this.metrics = metrics;
    this.timeout = settings.requestTimeout;
    this.coordinators =
        new ReplicaCoordinator.Node(
            replicas,
            clock,
            clockKeeper,
            nodeName,
            timeout,
            epochs,
            replication.epochRetryInterval,
            metrics,
            remoteReplies,
            replication.readSpeculation);
    this.askTimeout = settings.requestTimeout.plusMillis(500);
  }

  /**
   * The whole API; {@code more} (e.g. the /cluster routes) get the same JSON error handling, and
   * the access log when the {@value AccessLog#LOGGER} logger is at DEBUG.
   */
  public Route route(Route... more) {
    return route(LoggerFactory.getLogger(AccessLog.LOGGER), more);
  }

  /** {@link #route(Route...)} with the access log on {@code accessLog}. */
  Route route(Logger accessLog, Route... more) {
    Route data =
        extractRequest(
            request ->
                KeyPath.rawDataPath(request)
                    .map(encodedKey -> dataRoute(request, encodedKey))
                    .orElseGet(this::reject));
    Route[] rest = Arrays.copyOf(more, more.length + 1);
    rest[more.length] = path("health", () -> get(this::health));
    // The DSL calls these suppliers for every request: build what they return once, here.
    Route all = concat(data, rest);
    RejectionHandler rejections = rejectionHandler();
    Route handled = handleRejections(rejections, () -> all);
    Route safe = handleExceptions(exceptionHandler(), () -> handled);
    // outermost, so the log shows the status the client gets, rejections and errors included
    return new AccessLog(accessLog, replication.defaultConsistency).around(safe);
  }

  /**
   * Dispatches on the method directly: the routing DSL's parameter and method directives cost a
   * measurable share of every request (docs/benchmarks.md). Other methods go through the directives
   * so they are rejected the usual way (405 naming the allowed ones).
   */
  private Route dataRoute(HttpRequest request, String encodedKey) {
    String key;
    try {
      key = KeyPath.decode(encodedKey, settings.maxKeyBytes);
    } catch (KeyPath.BadKey e) {
      return complete(KeyPath.badKeyResponse(e));
    }
    Optional<String> level;
    try {
      level = request.getUri().query().get("consistency");
    } catch (IllegalUriException e) {
      return complete(
          ErrorBody.response(
              StatusCodes.BAD_REQUEST,
              "bad_query",
              "the query string is malformed: " + e.getMessage()));
    }
    Optional<Consistency> consistency = parseConsistency(level);
    if (consistency.isEmpty()) {
      return complete(
          ErrorBody.response(
              StatusCodes.BAD_REQUEST,
              "bad_consistency",
              "consistency must be one, quorum or all, was \"" + level.orElse("") + "\""));
    }
    Consistency chosen = consistency.get();
    Quorum quorum = Quorum.of(replication, chosen);
    HttpMethod method = request.method();
    if (method.equals(HttpMethods.GET)) {
      return completeWithFuture(coordinate(key, new Operation.Read(), quorum, chosen));
    }
    if (method.equals(HttpMethods.PUT) || method.equals(HttpMethods.POST)) {
      return writeRoute(key, quorum, chosen);
    }
    if (method.equals(HttpMethods.DELETE)) {
      return completeWithFuture(coordinate(key, new Operation.Delete(), quorum, chosen));
    }
    return concat(get(this::reject), put(this::reject), post(this::reject), delete(this::reject));
  }

  private Route writeRoute(String key, Quorum quorum, Consistency level) {
    return extractRequestEntity(
        entity -> {
          // a declared length over the limit is refused before reading a byte of the body
          if (entity.getContentLengthOption().orElse(0L) > settings.maxValueBytes) {
            return complete(tooLarge());
          }
          String type = entity.getContentType().toString();
          if (entity instanceof HttpEntity.Strict strict) {
            // The server hands over a body that arrived with its headers whole (every small
            // value): running a stream over it would spawn a stream actor and add two hops
            // that do no work (docs/benchmarks.md, "Hops of one quorum write").
            return completeWithFuture(
                coordinate(
                    key,
                    new Operation.Write(strict.getData().toArrayUnsafe(), type),
                    quorum,
                    level));
          }
          // limitWeighted fails a chunked body with a typed exception as soon as it passes the
          // limit
          CompletionStage<ByteString> body =
              entity
                  .getDataBytes()
                  .limitWeighted(settings.maxValueBytes, chunk -> (long) chunk.size())
                  .completionTimeout(timeout)
                  .runFold(ByteString.emptyByteString(), ByteString::concat, system);
          return onComplete(
              body,
              bytes ->
                  bytes.isFailure()
                      ? complete(entityFailure(bytes.failed().get()))
                      : completeWithFuture(
                          coordinate(
                              key,
                              new Operation.Write(bytes.get().toArrayUnsafe(), type),
                              quorum,
                              level)));
        });
  }

  private HttpResponse tooLarge() {
    return ErrorBody.response(
        StatusCodes.PAYLOAD_TOO_LARGE,
        "value_too_large",
        "the value is larger than the limit of " + settings.maxValueBytes + " bytes");
  }

  /**
   * Spawns a coordinator for this one request and asks it. {@code systemActorOf} creates the actor
   * synchronously, without a hop through a spawning actor (a typed system with its own guardian
   * refuses other top-level spawns from outside). The ask outlives the coordinator's own timeout a
   * little, so the coordinator's answer, which names the replicas that answered, wins over a bare
   * ask timeout.
   */
  private CompletionStage<HttpResponse> coordinate(
      String key, Operation operation, Quorum quorum, Consistency level) {
    long start = System.nanoTime();
    Metrics.Op op = ReplicaCoordinator.metricsOp(operation);
    ActorRef<ReplicaCoordinator.Command> coordinator =
        system.systemActorOf(
            ReplicaCoordinator.create(operation, key, quorum, coordinators),
            "req-" + requestIds.incrementAndGet(),
            Props.empty());
    CompletionStage<ReplicaCoordinator.Result> result =
        AskPattern.ask(coordinator, ReplicaCoordinator.Run::new, askTimeout, system.scheduler());
    boolean delete = operation instanceof Operation.Delete;
    return result.handle(
        (r, failure) -> {
          HttpResponse response =
              failure != null ? unavailable(failure, op) : respond(key, r, delete);
          if (response.status().intValue() == 503) {
            metrics.unavailable(op);
          }
          metrics.request(op, level, System.nanoTime() - start);
          return response;
        });
  }

  private HttpResponse respond(String key, ReplicaCoordinator.Result result, boolean delete) {
    if (result instanceof ReplicaCoordinator.Found found) {
      Versioned v = found.value();
      return HttpResponse.create()
          .withEntity(contentType(v.contentType()), v.value())
          .addHeader(RawHeader.create(VERSION_HEADER, v.version().toString()));
    }
    if (result instanceof ReplicaCoordinator.NotFound notFound) {
      HttpResponse response =
          ErrorBody.response(StatusCodes.NOT_FOUND, "not_found", "no value for this key");
      // a deleted key names the delete's version; one never written (or long purged) names none
      return notFound.tombstone() == null
          ? response
          : response.addHeader(RawHeader.create(VERSION_HEADER, notFound.tombstone().toString()));
    }
    if (result instanceof ReplicaCoordinator.Written written) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("key", key);
      body.put("version", written.version().toString());
      body.put("deleted", delete);
      return HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body))
          .addHeader(RawHeader.create(VERSION_HEADER, written.version().toString()));
    }
    ReplicaCoordinator.Unavailable u = (ReplicaCoordinator.Unavailable) result;
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("answered", u.answered());
    extra.put("outcome", u.outcomeUnknown() ? "unknown" : "not_applied");
    String message =
        u.outcomeUnknown()
            ? u.message()
                + "; the write's outcome is unknown: it may have been stored on some replicas and may still appear"
            : u.message();
    return ErrorBody.response(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", message, extra);
  }

  private Route health() {
    CompletionStage<StorageActor.Reply> reply =
        AskPattern.ask(storage, StorageActor.GetStats::new, timeout, system.scheduler());
    return completeWithFuture(
        reply.handle(
            (r, failure) -> {
              if (failure != null || !(r instanceof StorageActor.Stats stats)) {
                return ErrorBody.response(
                    StatusCodes.SERVICE_UNAVAILABLE, "unhealthy", "storage is not answering");
              }
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("status", "ok");
              body.put("node", nodeName);
              body.put("keys", stats.keys());
              return HttpResponse.create()
                  .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body));
            }));
  }

  private Optional<Consistency> parseConsistency(Optional<String> level) {
    if (level.isEmpty()) {
      return Optional.of(replication.defaultConsistency);
    }
    try {
      return Optional.of(Consistency.valueOf(level.get().toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * Stored content types are parsed once each, not per request. Clients choose them, so the cache
   * holds at most {@link #CONTENT_TYPES_CACHED}; past that a type is parsed on each read.
   */
  private ContentType contentType(String stored) {
    ContentType known = contentTypes.get(stored);
    if (known != null) {
      return known;
    }
    ContentType parsed = parseContentType(stored);
    if (contentTypes.size() < CONTENT_TYPES_CACHED) {
      contentTypes.putIfAbsent(stored, parsed);
    }
    return parsed;
  }

  static ContentType parseContentType(String stored) {
    try {
      return ContentTypes.parse(stored);
    } catch (RuntimeException e) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
  }

  int contentTypesCached() {
    return contentTypes.size();
  }

  private HttpResponse entityFailure(Throwable failure) {
    Throwable cause = ErrorBody.unwrap(failure);
    if (cause instanceof StreamLimitReachedException) {
      return tooLarge();
    }
    if (cause instanceof TimeoutException) {
      return ErrorBody.response(
          StatusCodes.REQUEST_TIMEOUT,
          "body_timeout",
          "the request body did not arrive within " + timeout.toMillis() + " ms");
    }
    return ErrorBody.response(
        StatusCodes.BAD_REQUEST,
        "bad_body",
        "could not read the request body: " + cause.getMessage());
  }

  private HttpResponse unavailable(Throwable failure, Metrics.Op op) {
    if (ErrorBody.isTimeout(failure)) {
      metrics.timeout(op);
    } else {
      log.warn("request failed", ErrorBody.unwrap(failure));
    }
    return ErrorBody.askFailed(
        failure, "the request's coordinator", askTimeout, "the outcome of a write is unknown");
  }

  /** Akka HTTP's default rejections keep their status and headers; the body becomes JSON. */
  private static RejectionHandler rejectionHandler() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              if (response.entity() instanceof HttpEntity.Strict strict
                  && !strict.getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                int status = response.status().intValue();
                String code =
                    status == 404
                        ? "not_found"
                        : status == 405 ? "method_not_allowed" : "bad_request";
                HttpResponse json =
                    ErrorBody.response(response.status(), code, strict.getData().utf8String());
                return json.addHeaders(response.getHeaders());
              }
              return response;
            });
  }

  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .matchAny(
            e -> {
              log.error("unexpected error while serving a request", e);
              return complete(
                  ErrorBody.response(
                      StatusCodes.INTERNAL_SERVER_ERROR,
                      "internal_error",
                      "the node hit an unexpected error; see its log"));
            })
        .build();
  }
}
