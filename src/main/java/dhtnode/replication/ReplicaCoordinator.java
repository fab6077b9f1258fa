package dhtnode.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dhtnode.metrics.Metrics;
import dhtnode.storage.HybridClock;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StorageActor.Get;
import dhtnode.storage.StorageActor.Put;
import dhtnode.storage.StorageActor.ReadResult;
import dhtnode.storage.StorageActor.Reply;
import dhtnode.storage.StorageActor.WriteResult;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

// Why this file stays long (about 1,000 lines): after its pure parts went to plain classes
// (QuorumTally counts answers, Placement says where an attempt goes, ReplyTags tags requests and
// takes each reply once, Quorum holds R and W), what remains is one state machine: the phases of
// a read, its blocking repair, the version read, the one- and two-round writes, the clock's
// reservation and the epoch-fenced retry all read and write the same per-request state (the
// tallies, the target version, the one-round bookkeeping that decides whether a fallback may
// re-stamp). Splitting it by phase would spread that state, and the invariants in the class
// comment, across files that must change together.
/**
 * Coordinates one client request on a key against the key's own replicas (no sloppy quorum),
 * talking to each replica's {@link StorageActor} directly. Spawned per request, it answers its
 * {@link Run#replyTo} exactly once with a {@link Result} and then stops. Every replica request
 * carries a tag naming the replica and the step it belongs to, and every replica's answer reaches
 * the same message adapter echoing that tag, so a request costs one message each way and no
 * temporary actor or timer per replica. The local replica answers the adapter directly; a remote
 * one answers this node's {@link ReplyRouter}, which finds the adapter by the request id the
 * coordinator registered in {@link PendingRequests} before its first remote request (see {@link
 * RemoteReplies}), so no request names a per-request actor on the wire; the registration ends when
 * the coordinator stops, however it stops. Everything is bounded by the request timeout: one timer
 * ends the request at the deadline, so a silent replica costs nothing but its place in the quorum.
 *
 * <p>Reads ask all N replicas, wait for R answers, pick the newest version (tombstones included)
 * and, before answering, make it present on W replicas by writing it back to the stale ones
 * (blocking read repair), so a value once returned is never un-read. Answers that arrive after the
 * reply are still repaired, fire-and-forget. Writes and deletes are two-phase (ABD): read the
 * current versions from R replicas, stamp a version above all of them with the node's {@link
 * HybridClock}, then write to all N and answer after W acks. When W is a majority of the replicas
 * and {@link Quorum#oneRoundWrites} is on, a write is first tried in one round: stamp with the
 * clock and write; a replica holding a newer version refuses it. If refusals keep it from W acks,
 * it falls back to the two rounds only when every replica refused (so the first version is stored
 * nowhere); otherwise it answers 503 with an unknown outcome, because writing the same bytes again
 * under a second version could make one write take effect twice. See {@code docs/replication.md}
 * for why this keeps quorum reads linearizable.
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

  /** The clock keeper extended the reservation this coordinator's stamp waited for. */
  private enum ClockReserved implements Command {
    INSTANCE
  }

  /** A read asked only R replicas and not all answered in time: ask the rest of the read set. */
  private enum Speculate implements Command {
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

  private enum Step {
    READ,
    REPAIR,
    VERSION_READ,
    WRITE,
    ONE_ROUND_WRITE
  }

  private static final Step[] STEPS = Step.values();

  private enum Phase {
    WAITING_FOR_RUN,
    READING,
    REPAIRING,
    VERSION_READING,
    WRITING,
    ONE_ROUND_WRITING,
    /** A stamp waits for the clock's reservation to be extended; nothing of this stamp was sent. */
    STAMPING,
    DONE
  }

  /**
   * What every coordinator of one node shares, so a caller builds it once and each request adds
   * only its operation, key and quorum.
   *
   * @param locator the key's placement at this node's current epoch, looked up again on a retry
   * @param clock this node's clock; writes stamp their version with it
   * @param clockKeeper extends a reserving clock's reservation when a stamp finds it exhausted;
   *     null for a clock that reserves nothing (a reserving one without a keeper never stamps: its
   *     writes answer 503 at the deadline, as on a node that could not read its reservation)
   * @param nodeName this node's name: the writer of the versions it stamps
   * @param timeout the whole request's budget, from spawn to reply
   * @param epochs told when a replica is at a later epoch than this node, so the ring catches up
   * @param retryInterval how long after a fenced attempt to look at the ring again
   * @param metrics where read repairs and timeouts are counted
   * @param remoteReplies how remote replicas answer: through this node's {@link ReplyRouter}; null
   *     (tools, tests) to have them answer each coordinator's own adapter, as the local one does
   * @param readSpeculation null: a read asks every replica of its read set at once. Otherwise it
   *     asks R of them (this node's own first), and the others when one of those fails, or when not
   *     all have answered after this long
   */
  public record Node(
      ReplicaLocator locator,
      HybridClock clock,
      ActorRef<ClockKeeper.Command> clockKeeper,
      String nodeName,
      Duration timeout,
      EpochListener epochs,
      Duration retryInterval,
      Metrics metrics,
      RemoteReplies remoteReplies,
      Duration readSpeculation) {
    public Node {
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(nodeName, "nodeName");
      Objects.requireNonNull(metrics, "metrics");
    }

    /**
     * A node without a ring (tools, tests): always {@code replicas}, at epoch 0, so nothing is ever
     * fenced or retried.
     */
    public static Node fixed(
        List<Replica> replicas,
        HybridClock clock,
        ActorRef<ClockKeeper.Command> clockKeeper,
        String nodeName,
        Duration timeout,
        Metrics metrics) {
      return new Node(
          ReplicaLocator.fixed(replicas),
          clock,
          clockKeeper,
          nodeName,
          timeout,
          EpochListener.IGNORE,
          Duration.ofMillis(20),
          metrics,
          null,
          null);
    }
  }

  /**
   * This node's {@link ReplyRouter} and the table it reads: a coordinator registers there and names
   * the router as the {@code replyTo} of its requests to other nodes.
   */
  public record RemoteReplies(ActorRef<Reply> router, PendingRequests pending) {
    public RemoteReplies {
      Objects.requireNonNull(router, "router");
      Objects.requireNonNull(pending, "pending");
    }
  }

  /**
   * @param operation read, write or delete
   * @param key the key, already validated by the caller
   * @param quorum the counts the request's consistency level needs
   * @param node what this node's coordinators share
   */
  public static Behavior<Command> create(
      Operation operation, String key, Quorum quorum, Node node) {
    Objects.requireNonNull(operation, "operation");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(quorum, "quorum");
    Objects.requireNonNull(node, "node");
    Placement placement = node.locator().placementFor(key);
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startSingleTimer(Deadline.INSTANCE, node.timeout());
                  return new ReplicaCoordinator(
                      context, timers, operation, key, placement, quorum, node);
                }));
  }

  /**
   * A coordinator for a node without a ring (tools, tests), with a clock that reserves nothing (see
   * {@link HybridClock#HybridClock()}): see {@link Node#fixed}.
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
    return create(
        operation, key, quorum, Node.fixed(replicas, clock, null, nodeName, timeout, metrics));
  }

  /** Hears of a later ring epoch a replica answered with, and which node is at it. */
  @FunctionalInterface
  public interface EpochListener {
    void observed(long epoch, String node);

    EpochListener IGNORE = (epoch, node) -> {};
  }

  private final TimerScheduler<Command> timers;
  private final Operation operation;
  private final String key;
  private final ReplicaLocator locator;
  private final EpochListener epochs;
  private final Duration retryInterval;
  private final Duration readSpeculation;

  /** Per replica of this attempt: whether a read or a repair was sent to it. */
  private boolean[] asked;

  /** Where the current attempt goes; a fenced attempt is retried with a fresh one. */
  private Placement placement;

  private List<Replica> replicas;
  private List<String> names;

  /** A replica answered this attempt at another epoch: a quorum it cannot meet is retried. */
  private boolean fenced;

  /** {@link #target} has been sent to replicas: a retry sends it again, never a new version. */
  private boolean writing;

  /** Some replica fenced us from a later epoch than this attempt's: ours must catch up first. */
  private long laterEpochSeen;

  private final Quorum quorum;
  private final HybridClock clock;
  private final ActorRef<ClockKeeper.Command> clockKeeper;
  private final String nodeName;
  private final Duration timeout;
  private final Metrics metrics;

  /** Where every replica's answer arrives; the tag in each reply tells them apart. */
  private final ActorRef<Reply> replies;

  /** The router remote replicas answer, and where this coordinator registers; null: none. */
  private final RemoteReplies remoteReplies;

  /**
   * This coordinator's id in {@link RemoteReplies#pending}, from its first remote request until it
   * stops; {@link PendingRequests#NONE} before (and without a router).
   */
  private long request = PendingRequests.NONE;

  private Phase phase = Phase.WAITING_FOR_RUN;
  private ActorRef<Result> replyTo;

  /** Reads of the read path, or the version read of the write path. */
  private QuorumTally reads;

  /** Acks of the write path, or replicas known to hold {@link #target} during read repair. */
  private QuorumTally holders;

  /** The value being written, or the newest value a read found. */
  private Versioned target;

  /** Which replies of this attempt are still awaited: a reply is taken once, like an ask's. */
  private ReplyTags tags;

  /** A replica ask or the request itself ran out of time: a 503 then counts as a timeout. */
  private boolean timedOut;

  /**
   * The first round of a one-round write, kept apart from {@link #holders} (the second round's
   * acks) so a late first-round reply can never be counted against the second round.
   */
  private QuorumTally firstRound;

  /** While {@link Phase#STAMPING}: the write step the stamp is for (one round, or the second). */
  private Step stampFor;

  /** One-round write: replicas that refused it because they hold a newer version. */
  private int refused;

  /**
   * One-round write: replicas whose reply leaves open whether they hold its version (a storage
   * failure, a pending replica, any other answer). Only refusals prove a replica never will.
   */
  private int uncertain;

  /** The one-round attempt was kept from W by refusals (counted once in the metrics). */
  private boolean fellBack;

  /**
   * Some replica, in any attempt, stored the one-round version or may have (an ack, an uncertain
   * answer, a put abandoned unanswered by a fenced attempt): the bytes can then never be written
   * again under another version.
   */
  private boolean firstMayBeStored;

  private ReplicaCoordinator(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Operation operation,
      String key,
      Placement placement,
      Quorum quorum,
      Node node) {
    super(context);
    this.timers = timers;
    this.operation = operation;
    this.key = key;
    this.locator = node.locator();
    this.epochs = node.epochs();
    this.retryInterval = node.retryInterval();
    this.readSpeculation = node.readSpeculation();
    usePlacement(placement);
    this.quorum = quorum;
    this.clock = node.clock();
    this.clockKeeper = node.clockKeeper();
    this.nodeName = node.nodeName();
    this.timeout = node.timeout();
    this.metrics = node.metrics();
    this.replies = context.messageAdapter(Reply.class, Answered::new);
    this.remoteReplies = node.remoteReplies();
  }

  /** The meter an operation is counted under. */
  public static Metrics.Op metricsOp(Operation operation) {
    return operation instanceof Operation.Read
        ? Metrics.Op.READ
        : operation instanceof Operation.Write ? Metrics.Op.WRITE : Metrics.Op.DELETE;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRun)
        .onMessage(Answered.class, this::onAnswered)
        .onMessageEquals(Deadline.INSTANCE, this::onDeadline)
        .onMessageEquals(Retry.INSTANCE, this::onRetry)
        .onMessageEquals(ClockReserved.INSTANCE, this::onClockReserved)
        .onMessageEquals(Speculate.INSTANCE, this::onSpeculate)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onRun(Run run) {
    if (phase != Phase.WAITING_FOR_RUN) {
      getContext().getLog().debug("key {}: ignoring a second Run", key);
      return this;
    }
    replyTo = run.replyTo();
    if (tooFewReplicas()) {
      reply(
          new Unavailable(
              "the key has "
                  + Math.min(placement.readCount(), placement.smallestWriteSet())
                  + " replica(s) at ring epoch "
                  + placement.epoch()
                  + " but this consistency level needs "
                  + quorum.needed()
                  + " (R="
                  + quorum.read()
                  + ", W="
                  + quorum.write()
                  + "): the cluster is smaller than the replication requires",
              List.of(),
              false));
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

  /**
   * Reads go to the read set only; the write-only replicas of a transition count as failed. A read
   * (not a write's version read) with speculation on asks only R of them first: the others stay
   * pending, unasked, until {@link #askReaders} is called for them.
   */
  private void startRead(Step step, Phase readPhase) {
    reads = new QuorumTally(names, quorum.read());
    asked = new boolean[replicas.size()];
    for (int i = placement.readCount(); i < replicas.size(); i++) {
      reads.fail(i);
    }
    phase = readPhase;
    if (getContext().getLog().isDebugEnabled()) { // the varargs call would allocate even when off
      getContext()
          .getLog()
          .debug(
              "key {}: {} on {} at epoch {} (R={}, W={})",
              key,
              operation,
              names,
              placement.epoch(),
              quorum.read(),
              quorum.write());
    }
    boolean speculating = step == Step.READ && readSpeculation != null;
    int first = speculating ? quorum.read() : placement.readCount();
    askReaders(first, step);
    if (first < placement.readCount()) {
      timers.startSingleTimer(Speculate.INSTANCE, readSpeculation);
    }
  }

  /**
   * Sends {@code step} to up to {@code n} replicas of the read set not asked yet in this attempt,
   * this node's own first (its answer crosses no wire), then in preference order.
   */
  private void askReaders(int n, Step step) {
    for (int pass = 0; pass < 2 && n > 0; pass++) {
      for (int i = 0; i < placement.readCount() && n > 0; i++) {
        if (!asked[i] && (pass == 1 || !replicas.get(i).remote())) {
          asked[i] = true;
          sendGet(i, step);
          n--;
        }
      }
    }
  }

  private Behavior<Command> onSpeculate() {
    if (phase == Phase.READING) {
      getContext()
          .getLog()
          .debug("key {}: no read quorum after {}; asking the rest", key, readSpeculation);
      metrics.readSpeculated();
      askReaders(placement.readCount(), Step.READ);
    }
    return this;
  }

  private void usePlacement(Placement next) {
    placement = next;
    replicas = next.replicas();
    names = next.names();
    if (tags == null) {
      tags = new ReplyTags(replicas.size());
    } else {
      tags.forget(replicas.size());
    }
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
    if (phase == Phase.ONE_ROUND_WRITING && tags.outstanding() > 0) {
      firstMayBeStored = true; // an abandoned put may still land: the version can never be replaced
    }
    tags.nextAttempt(replicas.size());
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
    int slot = tags.take(ReplyTags.tagOf(reply));
    if (slot < 0) {
      getContext().getLog().debug("key {}: ignoring a reply nobody waits for: {}", key, reply);
      return this;
    }
    int replica = ReplyTags.replicaOf(slot);
    Step step = STEPS[ReplyTags.stepOf(slot)];
    if (reply instanceof StorageActor.WrongEpoch wrong) {
      onFenced(replica, wrong);
    }
    if (reply instanceof StorageActor.StorageFailed failed) {
      getContext()
          .getLog()
          .debug(
              "key {}: replica {} failed {}: {}", key, names.get(replica), step, failed.reason());
    }
    switch (step) {
      case READ -> onRead(replica, reply);
      case REPAIR -> onRepaired(replica, reply);
      case VERSION_READ -> onVersionRead(replica, reply);
      case WRITE -> onWritten(replica, reply);
      case ONE_ROUND_WRITE -> onOneRoundWritten(replica, reply);
    }
    return phase == Phase.DONE && tags.outstanding() == 0 ? Behaviors.stopped() : this;
  }

  /** The replica is at another epoch: its answer counts as none, and the behind side catches up. */
  private void onFenced(int replica, StorageActor.WrongEpoch wrong) {
    fenced = true;
    getContext()
        .getLog()
        .debug(
            "key {}: replica {} is at epoch {}, this request at {}",
            key,
            names.get(replica),
            wrong.epoch(),
            placement.epoch());
    if (wrong.epoch() > placement.epoch()) {
      laterEpochSeen = Math.max(laterEpochSeen, wrong.epoch());
      epochs.observed(wrong.epoch(), names.get(replica));
    }
  }

  // ---- read path ----

  private void onRead(int replica, Reply reply) {
    boolean first =
        reply instanceof ReadResult r ? reads.answer(replica, r.value()) : reads.fail(replica);
    if (!first) {
      return;
    }
    switch (phase) {
      case READING -> {
        if (!reads.hasAnswered(replica)) {
          askReaders(1, Step.READ); // in its place, if the read set has a replica not asked yet
        }
        if (reads.isMet()) {
          startRepair();
        } else if (!reads.canStillMeet() && !retryIfFenced()) {
          replyReadUnavailable();
        }
      }
      case REPAIRING -> {
        // A late reader either already holds the value or becomes one more repair target.
        if (reads.holds(replica, target)) {
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
      default -> {}
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
        sendPut(
            i, target, Step.REPAIR); // a write-only replica of a transition: not read, so not known
      } else if (!asked[i]) {
        continue; // not read: repaired below only if the others cannot hold it on W replicas
      } else if (reads.holds(i, target)) {
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
    if (reply instanceof WriteResult w && QuorumTally.holds(w.stored(), target)) {
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
      return;
    }
    if (!askedCanStillHold()) {
      // the replicas that were read (or written) cannot make W: the newest value goes to the
      // replicas of the read set that were never read, as a repair
      for (int i = 0; i < placement.readCount(); i++) {
        if (!asked[i]) {
          asked[i] = true;
          sendPut(i, target, Step.REPAIR);
        }
      }
    }
    if (ackLost(holders) && !retryIfFenced()) {
      replyRepairUnavailable();
    }
  }

  /** Whether every write set can reach W among the replicas sent something and not failed. */
  private boolean askedCanStillHold() {
    return placement.writeStillPossible(
        i -> (i >= placement.readCount() || asked[i]) && !holders.hasFailed(i), quorum.write());
  }

  /** W acks in every write set of the placement (one set unless a transition moves the key). */
  private boolean acked(QuorumTally acks) {
    return placement.writeMet(acks, quorum.write());
  }

  private boolean ackLost(QuorumTally acks) {
    return !placement.writeStillPossible(acks, quorum.write());
  }

  private void replyRepairUnavailable() {
    reply(
        new Unavailable(
            "read "
                + reads.answeredCount()
                + " replicas but the newest value is on only "
                + holders.answeredCount()
                + " of the "
                + quorum.write()
                + " replicas a read must leave it on before answering",
            reads.answered(),
            false));
  }

  /** After the reply, a late stale replica still gets the value, without anyone waiting. */
  private void repairLate(int replica) {
    if (target != null && reads.hasAnswered(replica) && !reads.holds(replica, target)) {
      getContext()
          .getLog()
          .debug(
              "key {}: repairing late replica {} to {}", key, names.get(replica), target.version());
      metrics.readRepair();
      replicas
          .get(replica)
          .storage()
          .tell(new Put(key, target, placement.epoch(), 0, getContext().getSystem().ignoreRef()));
    }
  }

  private void replyReadUnavailable() {
    replyReadsShort("", "a read needs answered in time");
  }

  /** The 503 of a read round (a read's or a write's version read) that fell short of R. */
  private void replyReadsShort(String before, String after) {
    reply(
        new Unavailable(
            before
                + "only "
                + reads.answeredCount()
                + " of the "
                + quorum.read()
                + " replicas "
                + after,
            reads.answered(),
            false));
  }

  // ---- write path ----

  private void onVersionRead(int replica, Reply reply) {
    boolean first =
        reply instanceof ReadResult r ? reads.answer(replica, r.value()) : reads.fail(replica);
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
   * replica of every W we could gather already holds it and refuses ours: we cannot reach W without
   * a refusal. Then the bytes may only be stamped again if no replica holds them under the first
   * version: see {@link #onOneRoundWritten}.
   */
  private void startOneRoundWrite() {
    stampAndWrite(Step.ONE_ROUND_WRITE);
  }

  /** Stamps {@link #target} with the clock and sends it, or waits for the clock's reservation. */
  private void stampAndWrite(Step step) {
    long timestamp = clock.tryNow();
    if (timestamp == HybridClock.NOT_RESERVED) {
      awaitReservation(step);
      return;
    }
    target = versioned(new Version(timestamp, nodeName));
    startWriteRound(step);
  }

  /** Sends {@link #target} to every replica of the placement, both sets during a transition. */
  private void startWriteRound(Step step) {
    writing = true;
    if (step == Step.ONE_ROUND_WRITE) {
      phase = Phase.ONE_ROUND_WRITING;
      firstRound = new QuorumTally(names, quorum.write());
      refused = 0;
      uncertain = 0;
    } else {
      phase = Phase.WRITING;
      holders = new QuorumTally(names, quorum.write());
    }
    if (getContext().getLog().isDebugEnabled()) {
      getContext()
          .getLog()
          .debug(
              "key {}: {} {} on {} at epoch {} (W={})",
              key,
              step,
              operation,
              names,
              placement.epoch(),
              quorum.write());
    }
    for (int i = 0; i < replicas.size(); i++) {
      sendPut(i, target, step);
    }
  }

  /**
   * A one-round write that cannot reach W falls back to two rounds (a version read, then the same
   * bytes under a new, higher version) only when every replica refused the first version: a
   * refusing replica holds something newer and so can never store the first one, hence no replica
   * holds it, none ever will, no read can have returned it, and the write has had no effect yet. If
   * any replica stored it, or might have (a failure, a pending replica, a reply still missing at
   * the deadline), the first version may already have been read; writing the bytes again under a
   * second version would let one client write take effect twice (a read of it, then of a newer
   * concurrent write, then of it again), so the answer is 503 with an unknown outcome: the first
   * version may surface, once, and stays ordered where it is.
   */
  private void onOneRoundWritten(int replica, Reply reply) {
    if (reply instanceof WriteResult w && w.stored().equals(target)) {
      firstRound.answer(replica, w.stored()); // it stored our value, or already held exactly it
      firstMayBeStored = true;
    } else if (reply instanceof StorageActor.WrongEpoch) {
      firstRound.fail(replica); // fenced: it stored nothing
    } else if (reply instanceof WriteResult w && w.stored().version().equals(target.version())) {
      // Our version with other bytes: versions are unique, so this is a second writer of one
      // version. The replica keeps its own (it refuses), and can never hold ours.
      getContext()
          .getLog()
          .warn(
              "key {}: replica {} holds version {} with other contents; refused",
              key,
              names.get(replica),
              target.version());
      refused++;
      firstRound.fail(replica);
    } else if (reply instanceof WriteResult w
        && w.stored().version().isNewerThan(target.version())) {
      refused++; // it holds a newer version: it never stores ours
      firstRound.fail(replica);
    } else {
      uncertain++;
      firstMayBeStored = true;
      firstRound.fail(replica);
    }
    if (phase != Phase.ONE_ROUND_WRITING) {
      return;
    }
    if (acked(firstRound)) {
      reply(new Written(target.version()));
    } else if (ackLost(firstRound) && !retryIfFenced()) {
      if (refused > 0 && !fellBack) {
        fellBack = true;
        metrics.writeFallback();
      }
      if (refused == replicas.size() && !firstMayBeStored) {
        getContext()
            .getLog()
            .debug("key {}: every replica holds a newer version; writing in two rounds", key);
        startVersionRead();
      } else if (firstMayBeStored) {
        replyWriteUnknown(firstRound);
      }
      // else: only refusals so far; the replies still missing decide (all refusals: two rounds)
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
    if (fellBack) {
      // every replica refused the first version, so that one is stored nowhere: nothing was written
      replyReadsShort(
          "the write was refused by every replica (each holds a newer version), and ",
          "needed to version it again answered in time; nothing was written");
      return;
    }
    replyReadsShort("", "needed to version the write answered in time; nothing was written");
  }

  private void startWrite() {
    long seen = reads.maxTimestamp();
    if (seen != Long.MIN_VALUE) {
      clock.observe(seen);
    }
    // After observing, the next timestamp is above every one the read quorum holds, so this version
    // beats every write that completed before this one started, whatever the wall clocks said.
    stampAndWrite(Step.WRITE);
  }

  /**
   * The clock may not issue the next timestamp before its reservation is extended (on disk): ask
   * the keeper, and stamp again when it answers. Rare: the keeper extends it ahead of time, so this
   * happens after a start, or when a peer far ahead pushed this clock past the reservation.
   */
  private void awaitReservation(Step step) {
    getContext()
        .getLog()
        .debug("key {}: the clock's reservation is exhausted; waiting for the next one", key);
    phase = Phase.STAMPING;
    stampFor = step;
    if (clockKeeper == null) {
      return; // a node that could not read its reservation, and is stopping: the deadline answers
    }
    clockKeeper.tell(
        new ClockKeeper.Reserve(
            getContext().messageAdapter(ClockKeeper.Reserved.class, r -> ClockReserved.INSTANCE)));
  }

  private Behavior<Command> onClockReserved() {
    if (phase == Phase.STAMPING) {
      if (stampFor == Step.ONE_ROUND_WRITE) {
        startOneRoundWrite();
      } else {
        startWrite();
      }
    }
    return phase == Phase.DONE && tags.outstanding() == 0 ? Behaviors.stopped() : this;
  }

  private void replyStampUnavailable() {
    reply(
        new Unavailable(
            "this node's clock could not reserve a version in time (its reservation in the data directory "
                + "could not be written); nothing was written",
            List.of(),
            false));
  }

  private void onWritten(int replica, Reply reply) {
    // A replica holding something newer also acks: our write is ordered before it (last writer
    // wins). One holding our version with other contents does not: it keeps them, not ours.
    if (reply instanceof WriteResult w && QuorumTally.holds(w.stored(), target)) {
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
      replyWriteUnknown(holders);
    }
  }

  /** {@code acks}: the tally of the round that sent the values (the first or the second). */
  private void replyWriteUnknown(QuorumTally acks) {
    String why =
        refused > 0 && acks == firstRound
            ? refused
                + " replica(s) refused it holding a newer version, and others may hold it, so it "
                + "cannot be written again under a new version; "
            : "";
    reply(
        new Unavailable(
            "the write was acknowledged by "
                + acks.answeredCount()
                + " of the "
                + quorum.write()
                + " replicas required in time; "
                + why
                + "its outcome is unknown: it may still surface through repair",
            acks.answered(),
            true));
  }

  // ---- common ----

  private Behavior<Command> onDeadline() {
    timedOut = true;
    switch (phase) {
      case WAITING_FOR_RUN -> getContext().getLog().debug("key {}: no Run within {}", key, timeout);
      case READING -> replyReadUnavailable();
      case VERSION_READING -> replyVersionReadUnavailable();
      case REPAIRING -> replyRepairUnavailable();
      case WRITING -> replyWriteUnknown(holders);
      case ONE_ROUND_WRITING -> replyWriteUnknown(firstRound);
      case STAMPING -> replyStampUnavailable();
      case DONE -> {}
    }
    // After a reply the coordinator lingers only for late answers, and not past the deadline.
    return Behaviors.stopped();
  }

  private void reply(Result result) {
    getContext().getLog().debug("key {}: {}", key, result);
    if (timedOut && result instanceof Unavailable) {
      metrics.timeout(metricsOp(operation));
    }
    if (fellBack && result instanceof Unavailable) {
      metrics.writeFallbackUnavailable();
    }
    replyTo.tell(result);
    phase = Phase.DONE;
  }

  private void observe(Reply reply) {
    Versioned seen =
        reply instanceof ReadResult r
            ? r.value()
            : reply instanceof WriteResult w ? w.stored() : null;
    if (seen != null) {
      clock.observe(seen.version().timestamp());
    }
  }

  private void sendGet(int replica, Step step) {
    Replica to = replicas.get(replica);
    ActorRef<Reply> answerTo = repliesFrom(to); // first: it may register this coordinator's id
    to.storage()
        .tell(new Get(key, placement.epoch(), expectReply(replica, step), request, answerTo));
  }

  private void sendPut(int replica, Versioned value, Step step) {
    Replica to = replicas.get(replica);
    ActorRef<Reply> answerTo = repliesFrom(to);
    to.storage()
        .tell(
            new Put(key, value, placement.epoch(), expectReply(replica, step), request, answerTo));
  }

  /**
   * Where {@code replica} answers: a remote one this node's router, which finds this coordinator by
   * its request id (registered here, before the first remote request), so the message carries the
   * same ref for every request; the local one the adapter itself, since nothing is serialized and
   * the router's hop would only cost.
   */
  private ActorRef<Reply> repliesFrom(Replica replica) {
    if (!replica.remote() || remoteReplies == null) {
      return replies;
    }
    if (request == PendingRequests.NONE) {
      request = remoteReplies.pending().add(replies);
    }
    return remoteReplies.router();
  }

  /**
   * Whether it answered, reached its deadline, failed or was stopped from outside: the router hands
   * nothing here any more, and the table keeps only live coordinators.
   */
  private Behavior<Command> onPostStop() {
    if (request != PendingRequests.NONE) {
      remoteReplies.pending().remove(request);
    }
    return this;
  }

  /** Marks the reply of {@code replica} at {@code step} as awaited and returns its tag. */
  private int expectReply(int replica, Step step) {
    return tags.expect(replica, step.ordinal());
  }
}
