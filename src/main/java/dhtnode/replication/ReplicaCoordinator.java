package dhtnode.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
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
 * {@link Run#replyTo} exactly once with a {@link Result} and then stops. Every replica request
 * carries a tag naming the replica and the step it belongs to, and every replica answers the same
 * message adapter echoing that tag, so a request costs one message each way and no temporary
 * actor or timer per replica. Everything is bounded by the request timeout: one timer ends the
 * request at the deadline, so a silent replica costs nothing but its place in the quorum.
 *
 * <p>Reads ask all N replicas, wait for R answers, pick the newest version (tombstones included)
 * and, before answering, make it present on W replicas by writing it back to the stale ones
 * (blocking read repair), so a value once returned is never un-read. Answers that arrive after the
 * reply are still repaired, fire-and-forget. Writes and deletes are two-phase (ABD): read the
 * current versions from R replicas, stamp a version above all of them with the node's
 * {@link HybridClock}, then write to all N and answer after W acks. When W is a majority of the
 * replicas and {@link Quorum#oneRoundWrites} is on, a write is first tried in one round: stamp
 * with the clock and write; a replica holding a newer version refuses it, and only if refusals
 * keep it from W acks does it fall back to the two rounds. See {@code docs/replication.md} for
 * why both make quorum reads see every acknowledged write.
 *
 * <p>Guarantees: one reply; never "not written" once a write was sent to any replica (a failed
 * write is {@link Unavailable} with {@code outcomeUnknown}); never blocks, so it runs on the
 * default dispatcher.
 */
public final class ReplicaCoordinator extends AbstractBehavior<ReplicaCoordinator.Command> {

  public sealed interface Command {}

  /** Starts the request; its one {@link Result} goes to {@code replyTo}. */
  public record Run(ActorRef<Result> replyTo) implements Command {}

  /** A replica's reply, through the adapter; its tag says which replica and step it answers. */
  private record Answered(Reply reply) implements Command {}

  private enum Deadline implements Command {
    INSTANCE
  }

  /** Time to look again at this node's ring after a replica fenced the request. */
  private enum Retry implements Command {
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

  private enum Step { READ, REPAIR, VERSION_READ, WRITE, ONE_ROUND_WRITE }

  private static final Step[] STEPS = Step.values();

  /** Bits of a tag that hold the step; the replica's index is above them. */
  private static final int STEP_BITS = 3;

  /** Bits of a tag below the attempt number: the replica's index and the step. */
  private static final int ATTEMPT_SHIFT = 16;

  private enum Phase { WAITING_FOR_RUN, READING, REPAIRING, VERSION_READING, WRITING, ONE_ROUND_WRITING, DONE }

  /**
   * @param operation read, write or delete
   * @param key the key, already validated by the caller
   * @param locator the key's placement at this node's current epoch, looked up again on a retry
   * @param quorum the counts the request's consistency level needs
   * @param clock this node's clock; writes stamp their version with it
   * @param nodeName this node's name: the writer of the versions it stamps
   * @param timeout the whole request's budget, from spawn to reply
   * @param epochs told when a replica is at a later epoch than this node, so the ring catches up
   * @param retryInterval how long after a fenced attempt to look at the ring again
   * @param metrics where read repairs and timeouts are counted
   */
  public static Behavior<Command> create(
      Operation operation,
      String key,
      ReplicaLocator locator,
      Quorum quorum,
      HybridClock clock,
      String nodeName,
      Duration timeout,
      EpochListener epochs,
      Duration retryInterval,
      Metrics metrics) {
    Objects.requireNonNull(operation, "operation");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(quorum, "quorum");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(metrics, "metrics");
    Placement placement = locator.placementFor(key);
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(Deadline.INSTANCE, timeout);
      return new ReplicaCoordinator(context, timers, operation, key, locator, placement, quorum, clock, nodeName,
          timeout, epochs, retryInterval, metrics);
    }));
  }

  /**
   * A coordinator for a node without a ring (tools, tests): always {@code replicas}, at epoch 0.
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
    return create(operation, key, ReplicaLocator.fixed(replicas), quorum, clock, nodeName, timeout,
        EpochListener.IGNORE, Duration.ofMillis(20), metrics);
  }

  /** Hears of a later ring epoch a replica answered with, and which node is at it. */
  @FunctionalInterface
  public interface EpochListener {
    void observed(long epoch, String node);

    EpochListener IGNORE = (epoch, node) -> { };
  }

  private final TimerScheduler<Command> timers;
  private final Operation operation;
  private final String key;
  private final ReplicaLocator locator;
  private final EpochListener epochs;
  private final Duration retryInterval;
  /** Where the current attempt goes; a fenced attempt is retried with a fresh one. */
  private Placement placement;
  private List<Replica> replicas;
  private List<String> names;
  /** Numbers attempts, so replies to an abandoned one are never counted in the next. */
  private int attempt;
  /** A replica answered this attempt at another epoch: a quorum it cannot meet is retried. */
  private boolean fenced;
  /** {@link #target} has been sent to replicas: a retry sends it again, never a new version. */
  private boolean writing;
  /** Some replica fenced us from a later epoch than this attempt's: ours must catch up first. */
  private long laterEpochSeen;
  private final Quorum quorum;
  private final HybridClock clock;
  private final String nodeName;
  private final Duration timeout;
  private final Metrics metrics;
  /** Where every replica answers; the tag in each reply tells them apart. */
  private final ActorRef<Reply> replies;

  private Phase phase = Phase.WAITING_FOR_RUN;
  private ActorRef<Result> replyTo;
  /** Reads of the read path, or the version read of the write path. */
  private QuorumTally reads;
  /** Acks of the write path, or replicas known to hold {@link #target} during read repair. */
  private QuorumTally holders;
  /** The value being written, or the newest value a read found. */
  private Versioned target;
  /** Which tags of this attempt still wait for a reply: a reply is taken once, like an ask's. */
  private boolean[] awaiting;
  private int outstanding;
  /** A replica ask or the request itself ran out of time: a 503 then counts as a timeout. */
  private boolean timedOut;
  /** One-round write: replicas that refused it because they hold a newer version. */
  private int refused;

  private ReplicaCoordinator(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Operation operation,
      String key,
      ReplicaLocator locator,
      Placement placement,
      Quorum quorum,
      HybridClock clock,
      String nodeName,
      Duration timeout,
      EpochListener epochs,
      Duration retryInterval,
      Metrics metrics) {
    super(context);
    this.timers = timers;
    this.operation = operation;
    this.key = key;
    this.locator = locator;
    this.epochs = epochs;
    this.retryInterval = retryInterval;
    usePlacement(placement);
    this.quorum = quorum;
    this.clock = clock;
    this.nodeName = nodeName;
    this.timeout = timeout;
    this.metrics = metrics;
    this.replies = context.messageAdapter(Reply.class, Answered::new);
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
        .onMessageEquals(Retry.INSTANCE, this::onRetry)
        .build();
  }

  private Behavior<Command> onRun(Run run) {
    if (phase != Phase.WAITING_FOR_RUN) {
      getContext().getLog().debug("key {}: ignoring a second Run", key);
      return this;
    }
    replyTo = run.replyTo();
    if (tooFewReplicas()) {
      reply(new Unavailable(
          "the key has " + Math.min(placement.readCount(), placement.smallestWriteSet())
              + " replica(s) at ring epoch " + placement.epoch() + " but this consistency level needs "
              + quorum.needed() + " (R=" + quorum.read() + ", W=" + quorum.write()
              + "): the cluster is smaller than the replication requires",
          List.of(), false));
      return Behaviors.stopped();
    }
    start();
    return this;
  }

  private boolean tooFewReplicas() {
    return placement.readCount() < quorum.read() || placement.smallestWriteSet() < quorum.write();
  }

  /** Starts (or, on a new attempt, restarts) the operation on the current placement. */
  private void start() {
    if (operation instanceof Operation.Read) {
      startRead(Step.READ, Phase.READING);
    } else if (writing) {
      // a fenced write keeps its version: the same bytes under the same version are idempotent
      startWriteRound(phase == Phase.ONE_ROUND_WRITING ? Step.ONE_ROUND_WRITE : Step.WRITE);
    } else if (quorum.oneRoundFor(placement.smallestWriteSet())) {
      startOneRoundWrite();
    } else {
      startRead(Step.VERSION_READ, Phase.VERSION_READING);
    }
  }

  /** Reads go to the read set only; the write-only replicas of a transition count as failed. */
  private void startRead(Step step, Phase readPhase) {
    reads = new QuorumTally(names, quorum.read());
    for (int i = placement.readCount(); i < replicas.size(); i++) {
      reads.fail(i);
    }
    phase = readPhase;
    if (getContext().getLog().isDebugEnabled()) { // the varargs call would allocate even when off
      getContext().getLog().debug("key {}: {} on {} at epoch {} (R={}, W={})",
          key, operation, names, placement.epoch(), quorum.read(), quorum.write());
    }
    for (int i = 0; i < placement.readCount(); i++) {
      sendGet(i, step);
    }
  }

  private void usePlacement(Placement next) {
    placement = next;
    replicas = next.replicas();
    names = next.names();
    awaiting = new boolean[replicas.size() << STEP_BITS];
    outstanding = 0;
    fenced = false;
  }

  /**
   * A quorum this attempt cannot meet because replicas fenced it: try again on a fresh placement
   * once this node's ring has caught up (or the replicas have), until the request's deadline.
   */
  private boolean retryIfFenced() {
    if (!fenced) {
      return false;
    }
    getContext().getLog().debug("key {}: fenced at epoch {}; retrying", key, placement.epoch());
    metrics.fenced();
    attempt++;
    awaiting = new boolean[replicas.size() << STEP_BITS];
    outstanding = 0;
    timers.startSingleTimer(Retry.INSTANCE, retryInterval);
    return true;
  }

  private Behavior<Command> onRetry() {
    if (phase == Phase.DONE) {
      return this;
    }
    Placement next = locator.placementFor(key);
    if (next.epoch() < laterEpochSeen) {
      timers.startSingleTimer(Retry.INSTANCE, retryInterval); // this node has not caught up yet
      return this;
    }
    usePlacement(next);
    if (tooFewReplicas()) {
      timers.startSingleTimer(Retry.INSTANCE, retryInterval);
      return this;
    }
    start();
    return this;
  }

  private Behavior<Command> onAnswered(Answered answered) {
    Reply reply = answered.reply();
    observe(reply);
    int tag = tagOf(reply);
    int slot = tag & ((1 << ATTEMPT_SHIFT) - 1);
    if (tag < 0 || tag >>> ATTEMPT_SHIFT != (attempt & 0x7fff) || slot >= awaiting.length || !awaiting[slot]) {
      getContext().getLog().debug("key {}: ignoring a reply nobody waits for: {}", key, reply);
      return this;
    }
    awaiting[slot] = false;
    outstanding--;
    int replica = slot >>> STEP_BITS;
    Step step = STEPS[slot & ((1 << STEP_BITS) - 1)];
    if (reply instanceof StorageActor.WrongEpoch wrong) {
      onFenced(replica, wrong);
    }
    if (reply instanceof StorageActor.StorageFailed failed) {
      getContext().getLog().debug("key {}: replica {} failed {}: {}", key, names.get(replica), step, failed.reason());
    }
    switch (step) {
      case READ -> onRead(replica, reply);
      case REPAIR -> onRepaired(replica, reply);
      case VERSION_READ -> onVersionRead(replica, reply);
      case WRITE -> onWritten(replica, reply);
      case ONE_ROUND_WRITE -> onOneRoundWritten(replica, reply);
    }
    return phase == Phase.DONE && outstanding == 0 ? Behaviors.stopped() : this;
  }

  /** The replica is at another epoch: its answer counts as none, and the behind side catches up. */
  private void onFenced(int replica, StorageActor.WrongEpoch wrong) {
    fenced = true;
    getContext().getLog().debug("key {}: replica {} is at epoch {}, this request at {}",
        key, names.get(replica), wrong.epoch(), placement.epoch());
    if (wrong.epoch() > placement.epoch()) {
      laterEpochSeen = Math.max(laterEpochSeen, wrong.epoch());
      epochs.observed(wrong.epoch(), names.get(replica));
    }
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
        } else if (!reads.canStillMeet() && !retryIfFenced()) {
          replyReadUnavailable();
        }
      }
      case REPAIRING -> {
        // A late reader either already holds the value or becomes one more repair target.
        if (reads.holdsAtLeast(replica, target.version())) {
          holders.answer(replica, reads.valueOf(replica));
        } else if (reads.hasAnswered(replica)) {
          metrics.readRepair();
          sendPut(replica, target, Step.REPAIR);
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
      if (i >= placement.readCount()) {
        sendPut(i, target, Step.REPAIR); // a write-only replica of a transition: not read, so not known
      } else if (reads.holdsAtLeast(i, target.version())) {
        holders.answer(i, reads.valueOf(i));
      } else if (reads.hasAnswered(i)) {
        metrics.readRepair();
        sendPut(i, target, Step.REPAIR);
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

  /** The value is on W replicas of every write set: a later read cannot miss it. */
  private void checkRepair() {
    if (acked(holders)) {
      reply(target.tombstone() ? new NotFound(target.version()) : new Found(target));
    } else if (ackLost(holders) && !retryIfFenced()) {
      replyRepairUnavailable();
    }
  }

  /** W acks in every write set of the placement (one set unless a transition moves the key). */
  private boolean acked(QuorumTally acks) {
    return placement.writeMet(acks, quorum.write());
  }

  private boolean ackLost(QuorumTally acks) {
    return !placement.writeStillPossible(acks, quorum.write());
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
      replicas.get(replica).storage().tell(
          new Put(key, target, placement.epoch(), 0, getContext().getSystem().ignoreRef()));
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
    } else if (!reads.canStillMeet() && !retryIfFenced()) {
      replyVersionReadUnavailable();
    }
  }

  /**
   * One round: stamp with this node's clock and write to all N. With 2W > N any two write quorums
   * share a replica, so if a write completed before this one started with a higher version, a
   * replica of every W we could gather already holds it and refuses ours: we cannot reach W
   * without a refusal, and then fall back to the two-round write, whose version read stamps above
   * what the refusals showed.
   */
  private void startOneRoundWrite() {
    target = versioned(new Version(clock.now(), nodeName));
    startWriteRound(Step.ONE_ROUND_WRITE);
  }

  /** Sends {@link #target} to every replica of the placement, both sets during a transition. */
  private void startWriteRound(Step step) {
    phase = step == Step.ONE_ROUND_WRITE ? Phase.ONE_ROUND_WRITING : Phase.WRITING;
    writing = true;
    holders = new QuorumTally(names, quorum.write());
    refused = 0;
    if (getContext().getLog().isDebugEnabled()) {
      getContext().getLog().debug("key {}: {} {} on {} at epoch {} (W={})",
          key, step, operation, names, placement.epoch(), quorum.write());
    }
    for (int i = 0; i < replicas.size(); i++) {
      sendPut(i, target, step);
    }
  }

  private void onOneRoundWritten(int replica, Reply reply) {
    // only our own version counts: a replica holding a newer one refused this write
    if (reply instanceof WriteResult w && w.stored().version().equals(target.version())) {
      holders.answer(replica, w.stored());
    } else {
      if (reply instanceof WriteResult) {
        refused++;
      }
      holders.fail(replica);
    }
    if (phase != Phase.ONE_ROUND_WRITING) {
      return;
    }
    if (acked(holders)) {
      reply(new Written(target.version()));
    } else if (ackLost(holders) && !retryIfFenced()) {
      if (refused > 0) {
        getContext().getLog().debug("key {}: {} replica(s) hold a newer version; writing in two rounds", key, refused);
        startVersionRead();
      } else {
        replyWriteUnknown();
      }
    }
  }

  private void startVersionRead() {
    writing = false; // the one-round version was refused: the two rounds stamp a new one
    startRead(Step.VERSION_READ, Phase.VERSION_READING);
  }

  private Versioned versioned(Version version) {
    return operation instanceof Operation.Write w
        ? Versioned.of(w.value(), w.contentType(), version)
        : Versioned.tombstone(version);
  }

  private void replyVersionReadUnavailable() {
    if (refused > 0) {
      // the one-round attempt before may have reached some replicas
      reply(new Unavailable(
          "the write was refused by " + refused + " replica(s) holding a newer version, and only "
              + reads.answeredCount() + " of the " + quorum.read() + " replicas needed to version it again answered "
              + "in time; its outcome is unknown: it may still surface through repair",
          reads.answered(), true));
      return;
    }
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
    target = versioned(new Version(clock.now(), nodeName));
    startWriteRound(Step.WRITE);
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
    if (acked(holders)) {
      reply(new Written(target.version()));
    } else if (ackLost(holders) && !retryIfFenced()) {
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
      case WRITING, ONE_ROUND_WRITING -> replyWriteUnknown();
      case DONE -> { }
    }
    // After a reply the coordinator lingers only for late answers, and not past the deadline.
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

  private void sendGet(int replica, Step step) {
    replicas.get(replica).storage().tell(new Get(key, placement.epoch(), expectReply(replica, step), replies));
  }

  private void sendPut(int replica, Versioned value, Step step) {
    replicas.get(replica).storage().tell(
        new Put(key, value, placement.epoch(), expectReply(replica, step), replies));
  }

  /** Marks the reply of {@code replica} at {@code step} as awaited and returns its tag. */
  private int expectReply(int replica, Step step) {
    int slot = replica << STEP_BITS | step.ordinal();
    awaiting[slot] = true;
    outstanding++;
    return (attempt & 0x7fff) << ATTEMPT_SHIFT | slot;
  }

  /** The tag a replica echoed, or -1 for a reply that carries none. */
  private static int tagOf(Reply reply) {
    if (reply instanceof ReadResult r) {
      return r.tag();
    }
    if (reply instanceof WriteResult w) {
      return w.tag();
    }
    if (reply instanceof StorageActor.PendingReplica p) {
      return p.tag();
    }
    if (reply instanceof StorageActor.StorageFailed f) {
      return f.tag();
    }
    if (reply instanceof StorageActor.WrongEpoch w) {
      return w.tag();
    }
    return -1;
  }
}
