package dhtnode.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.metrics.Metrics;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StorageActor.Get;
import dhtnode.storage.StorageActor.Put;
import dhtnode.storage.StorageActor.ReadResult;
import dhtnode.storage.StorageActor.Reply;
import dhtnode.storage.StorageActor.WriteResult;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Coordinates one client request on a key against the key's own replicas (no sloppy quorum),
 * talking to each replica's {@link StorageActor} directly. Spawned per request, it answers its
 * {@link Run#replyTo} exactly once with a {@link Result} and then stops. Everything is bounded by
 * the request timeout: a timer ends the request at the deadline, and every replica ask times out
 * just before it, so a silent replica costs nothing but its place in the quorum.
 *
 * <p>Reads ask all N replicas, wait for R answers, pick the newest version (tombstones included)
 * and, before answering, make it present on W replicas by writing it back to the stale ones
 * (blocking read repair), so a value once returned is never un-read. Answers that arrive after the
 * reply are still repaired, fire-and-forget. Writes and deletes are two-phase (ABD): read the
 * current versions from R replicas, stamp a version above all of them with the node's
 * {@link HybridClock}, then write to all N and answer after W acks. See {@code docs/replication.md}
 * for why this makes quorum reads see every acknowledged write.
 *
 * <p>Guarantees: one reply; never "not written" once a write was sent to any replica (a failed
 * write is {@link Unavailable} with {@code outcomeUnknown}); never blocks, so it runs on the
 * default dispatcher.
 */
public final class ReplicaCoordinator extends AbstractBehavior<ReplicaCoordinator.Command> {

  public sealed interface Command {}

  /** Starts the request; its one {@link Result} goes to {@code replyTo}. */
  public record Run(ActorRef<Result> replyTo) implements Command {}

  /** A replica's reply to the ask of {@code step}; {@code reply} is null when the ask timed out. */
  private record Answered(int replica, Step step, Reply reply) implements Command {}

  private enum Deadline implements Command {
    INSTANCE
  }

  /** What a request asks for. */
  public sealed interface Operation {
    record Read() implements Operation {}

    /** The bytes are owned by the coordinator from here on and never changed. */
    record Write(byte[] value, String contentType) implements Operation {
      public Write {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(contentType, "contentType");
      }
    }

    /** A delete is a write of a tombstone, so an older write cannot resurrect the key. */
    record Delete() implements Operation {}
  }

  /** The one answer to a request. */
  public sealed interface Result {}

  /** The newest value a read quorum holds, already present on W replicas. */
  public record Found(Versioned value) implements Result {}

  /** No value: {@code tombstone} is the delete's version, null when the key was never written. */
  public record NotFound(Version tombstone) implements Result {}

  /** The write (or delete) is on W replicas with this version. */
  public record Written(Version version) implements Result {}

  /**
   * Too few replicas answered in time. {@code answered} names those that did (for a write, those
   * that acknowledged it). {@code outcomeUnknown} is true for a write that reached at least the
   * sending of its values: it may have been stored on some replicas and may surface later through
   * repair, so it must never be reported as "not written".
   */
  public record Unavailable(String message, List<String> answered, boolean outcomeUnknown)
      implements Result {}

  private enum Step { READ, REPAIR, VERSION_READ, WRITE }

  private enum Phase { WAITING_FOR_RUN, READING, REPAIRING, VERSION_READING, WRITING, DONE }

  /**
   * Replica asks time out this much before the deadline timer fires, so their failures are
   * processed by a live coordinator rather than dead-lettered after it stopped.
   */
  private static final Duration ASK_MARGIN = Duration.ofMillis(20);

  private static final Duration MIN_ASK_TIMEOUT = Duration.ofMillis(1);

  /**
   * @param operation read, write or delete
   * @param key the key, already validated by the caller
   * @param replicas the key's replicas in preference order, only its own (no sloppy quorum)
   * @param quorum the counts the request's consistency level needs
   * @param clock this node's clock; writes stamp their version with it
   * @param nodeName this node's name: the writer of the versions it stamps
   * @param timeout the whole request's budget, from spawn to reply
   * @param metrics where read repairs and timeouts are counted
   */
  public static Behavior<Command> create(
      Operation operation,
      String key,
      List<Replica> replicas,
      Quorum quorum,
      HybridClock clock,
      String nodeName,
      Duration timeout,
      Metrics metrics) {
    Objects.requireNonNull(operation, "operation");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(quorum, "quorum");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(metrics, "metrics");
    List<Replica> copy = List.copyOf(replicas);
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(Deadline.INSTANCE, timeout);
      return new ReplicaCoordinator(context, operation, key, copy, quorum, clock, nodeName, timeout, metrics);
    }));
  }

  private final Operation operation;
  private final String key;
  private final List<Replica> replicas;
  private final List<String> names;
  private final Quorum quorum;
  private final HybridClock clock;
  private final String nodeName;
  private final Duration timeout;
  private final long deadlineNanos;
  private final Metrics metrics;

  private Phase phase = Phase.WAITING_FOR_RUN;
  private ActorRef<Result> replyTo;
  /** Reads of the read path, or the version read of the write path. */
  private QuorumTally reads;
  /** Acks of the write path, or replicas known to hold {@link #target} during read repair. */
  private QuorumTally holders;
  /** The value being written, or the newest value a read found. */
  private Versioned target;
  private int outstanding;
  /** A replica ask or the request itself ran out of time: a 503 then counts as a timeout. */
  private boolean timedOut;

  private ReplicaCoordinator(
      ActorContext<Command> context,
      Operation operation,
      String key,
      List<Replica> replicas,
      Quorum quorum,
      HybridClock clock,
      String nodeName,
      Duration timeout,
      Metrics metrics) {
    super(context);
    this.operation = operation;
    this.key = key;
    this.replicas = replicas;
    List<String> n = new ArrayList<>(replicas.size());
    for (Replica r : replicas) {
      n.add(r.node());
    }
    this.names = n; // never changed after this point
    this.quorum = quorum;
    this.clock = clock;
    this.nodeName = nodeName;
    this.timeout = timeout;
    this.deadlineNanos = System.nanoTime() + timeout.toNanos();
    this.metrics = metrics;
  }

  /** The meter an operation is counted under. */
  public static Metrics.Op metricsOp(Operation operation) {
    return operation instanceof Operation.Read ? Metrics.Op.READ
        : operation instanceof Operation.Write ? Metrics.Op.WRITE
        : Metrics.Op.DELETE;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRun)
        .onMessage(Answered.class, this::onAnswered)
        .onMessageEquals(Deadline.INSTANCE, this::onDeadline)
        .build();
  }

  private Behavior<Command> onRun(Run run) {
    if (phase != Phase.WAITING_FOR_RUN) {
      getContext().getLog().debug("key {}: ignoring a second Run", key);
      return this;
    }
    replyTo = run.replyTo();
    if (replicas.size() < quorum.needed()) {
      reply(new Unavailable(
          "the key has " + replicas.size() + " replica(s) but this consistency level needs "
              + quorum.needed() + " (R=" + quorum.read() + ", W=" + quorum.write()
              + "): the cluster is smaller than the replication requires",
          List.of(), false));
      return Behaviors.stopped();
    }
    reads = new QuorumTally(names, quorum.read());
    Step step = operation instanceof Operation.Read ? Step.READ : Step.VERSION_READ;
    phase = step == Step.READ ? Phase.READING : Phase.VERSION_READING;
    if (getContext().getLog().isDebugEnabled()) { // the varargs call would allocate even when off
      getContext().getLog().debug("key {}: {} on {} (R={}, W={})", key, operation, names, quorum.read(), quorum.write());
    }
    for (int i = 0; i < replicas.size(); i++) {
      askGet(i, step);
    }
    return this;
  }

  private Behavior<Command> onAnswered(Answered answered) {
    outstanding--;
    Reply reply = answered.reply();
    if (reply == null) {
      timedOut = true;
    }
    observe(reply);
    if (reply instanceof StorageActor.StorageFailed failed) {
      getContext().getLog().debug("key {}: replica {} failed {}: {}",
          key, names.get(answered.replica()), answered.step(), failed.reason());
    }
    switch (answered.step()) {
      case READ -> onRead(answered.replica(), reply);
      case REPAIR -> onRepaired(answered.replica(), reply);
      case VERSION_READ -> onVersionRead(answered.replica(), reply);
      case WRITE -> onWritten(answered.replica(), reply);
    }
    return phase == Phase.DONE && outstanding == 0 ? Behaviors.stopped() : this;
  }

  // ---- read path ----

  private void onRead(int replica, Reply reply) {
    boolean first = reply instanceof ReadResult r ? reads.answer(replica, r.value()) : reads.fail(replica);
    if (!first) {
      return;
    }
    switch (phase) {
      case READING -> {
        if (reads.isMet()) {
          startRepair();
        } else if (!reads.canStillMeet()) {
          replyReadUnavailable();
        }
      }
      case REPAIRING -> {
        // A late reader either already holds the value or becomes one more repair target.
        if (reads.holdsAtLeast(replica, target.version())) {
          holders.answer(replica, reads.valueOf(replica));
        } else if (reads.hasAnswered(replica)) {
          metrics.readRepair();
          askPut(replica, target, Step.REPAIR);
        } else {
          holders.fail(replica);
        }
        checkRepair();
      }
      case DONE -> repairLate(replica);
      default -> { }
    }
  }

  private void startRepair() {
    target = reads.newest();
    if (target == null) {
      reply(new NotFound(null));
      return;
    }
    phase = Phase.REPAIRING;
    holders = new QuorumTally(names, quorum.write());
    for (int i = 0; i < replicas.size(); i++) {
      if (reads.holdsAtLeast(i, target.version())) {
        holders.answer(i, reads.valueOf(i));
      } else if (reads.hasAnswered(i)) {
        metrics.readRepair();
        askPut(i, target, Step.REPAIR);
      } else if (reads.hasFailed(i)) {
        holders.fail(i);
      }
    }
    checkRepair();
  }

  private void onRepaired(int replica, Reply reply) {
    if (reply instanceof WriteResult w && QuorumTally.atLeast(w.stored(), target.version())) {
      holders.answer(replica, w.stored());
    } else {
      holders.fail(replica);
    }
    if (phase == Phase.REPAIRING) {
      checkRepair();
    }
  }

  private void checkRepair() {
    if (holders.isMet()) {
      reply(target.tombstone() ? new NotFound(target.version()) : new Found(target));
    } else if (!holders.canStillMeet()) {
      replyRepairUnavailable();
    }
  }

  private void replyRepairUnavailable() {
    reply(new Unavailable(
        "read " + reads.answeredCount() + " replicas but the newest value is on only "
            + holders.answeredCount() + " of the " + quorum.write()
            + " replicas a read must leave it on before answering",
        reads.answered(), false));
  }

  /** After the reply, a late stale replica still gets the value, without anyone waiting. */
  private void repairLate(int replica) {
    if (target != null && reads.hasAnswered(replica) && !reads.holdsAtLeast(replica, target.version())) {
      getContext().getLog().debug("key {}: repairing late replica {} to {}", key, names.get(replica), target.version());
      metrics.readRepair();
      replicas.get(replica).storage().tell(new Put(key, target, getContext().getSystem().ignoreRef()));
    }
  }

  private void replyReadUnavailable() {
    reply(new Unavailable(
        "only " + reads.answeredCount() + " of the " + quorum.read() + " replicas a read needs answered in time",
        reads.answered(), false));
  }

  // ---- write path ----

  private void onVersionRead(int replica, Reply reply) {
    boolean first = reply instanceof ReadResult r ? reads.answer(replica, r.value()) : reads.fail(replica);
    if (!first || phase != Phase.VERSION_READING) {
      return;
    }
    if (reads.isMet()) {
      startWrite();
    } else if (!reads.canStillMeet()) {
      replyVersionReadUnavailable();
    }
  }

  private void replyVersionReadUnavailable() {
    reply(new Unavailable(
        "only " + reads.answeredCount() + " of the " + quorum.read()
            + " replicas needed to version the write answered in time; nothing was written",
        reads.answered(), false));
  }

  private void startWrite() {
    long seen = reads.maxTimestamp();
    if (seen != Long.MIN_VALUE) {
      clock.observe(seen);
    }
    // After observing, now() is above every timestamp the read quorum holds, so this version beats
    // every write that completed before this one started, whatever the writers' wall clocks said.
    Version version = new Version(clock.now(), nodeName);
    target = operation instanceof Operation.Write w
        ? Versioned.of(w.value(), w.contentType(), version)
        : Versioned.tombstone(version);
    phase = Phase.WRITING;
    holders = new QuorumTally(names, quorum.write());
    for (int i = 0; i < replicas.size(); i++) {
      askPut(i, target, Step.WRITE);
    }
  }

  private void onWritten(int replica, Reply reply) {
    // A replica holding something newer also acks: our write is ordered before it (last writer wins).
    if (reply instanceof WriteResult w && QuorumTally.atLeast(w.stored(), target.version())) {
      holders.answer(replica, w.stored());
    } else {
      holders.fail(replica);
    }
    if (phase != Phase.WRITING) {
      return;
    }
    if (holders.isMet()) {
      reply(new Written(target.version()));
    } else if (!holders.canStillMeet()) {
      replyWriteUnknown();
    }
  }

  private void replyWriteUnknown() {
    reply(new Unavailable(
        "the write was acknowledged by " + holders.answeredCount() + " of the " + quorum.write()
            + " replicas required in time; its outcome is unknown: it may still surface through repair",
        holders.answered(), true));
  }

  // ---- common ----

  private Behavior<Command> onDeadline() {
    timedOut = true;
    switch (phase) {
      case WAITING_FOR_RUN -> getContext().getLog().debug("key {}: no Run within {}", key, timeout);
      case READING -> replyReadUnavailable();
      case VERSION_READING -> replyVersionReadUnavailable();
      case REPAIRING -> replyRepairUnavailable();
      case WRITING -> replyWriteUnknown();
      case DONE -> { }
    }
    // After a reply the coordinator lingers only for late answers; their asks have timed out by now.
    return Behaviors.stopped();
  }

  private void reply(Result result) {
    getContext().getLog().debug("key {}: {}", key, result);
    if (timedOut && result instanceof Unavailable) {
      metrics.timeout(metricsOp(operation));
    }
    replyTo.tell(result);
    phase = Phase.DONE;
  }

  private void observe(Reply reply) {
    Versioned seen = reply instanceof ReadResult r ? r.value()
        : reply instanceof WriteResult w ? w.stored()
        : null;
    if (seen != null) {
      clock.observe(seen.version().timestamp());
    }
  }

  private void askGet(int replica, Step step) {
    outstanding++;
    getContext().ask(Reply.class, replicas.get(replica).storage(), askTimeout(),
        ref -> new Get(key, ref),
        (reply, failure) -> new Answered(replica, step, reply));
  }

  private void askPut(int replica, Versioned value, Step step) {
    outstanding++;
    getContext().ask(Reply.class, replicas.get(replica).storage(), askTimeout(),
        ref -> new Put(key, value, ref),
        (reply, failure) -> new Answered(replica, step, reply));
  }

  /** Time left until the deadline, less the margin that lets the ask fail before the timer fires. */
  private Duration askTimeout() {
    long left = deadlineNanos - System.nanoTime() - ASK_MARGIN.toNanos();
    return left > MIN_ASK_TIMEOUT.toNanos() ? Duration.ofNanos(left) : MIN_ASK_TIMEOUT;
  }
}
