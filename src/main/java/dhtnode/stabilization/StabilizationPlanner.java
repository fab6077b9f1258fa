package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dhtnode.keyspace.TokenRange;
import dhtnode.keyspace.TokenRangeSet;
import dhtnode.membership.Member;
import dhtnode.membership.MemberEvent;
import dhtnode.membership.MemberStatus;
import dhtnode.membership.MembershipActor;
import dhtnode.metrics.Metrics;
import dhtnode.ring.HashRing;
import dhtnode.ring.RingActor;
import dhtnode.ring.RingSnapshot;
import dhtnode.storage.HybridClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

// Why this file stays long (about 530 lines): its decisions are already plain classes with fast
// tests (EpochWork: what to fill and refill, from whom, what to drop; ReplicaStatus: what is
// pending; the sessions' FetchPlan and Reconciliation; the wall clock is injected), and what
// remains is the actor that carries them: one ring snapshot drives four kinds of work (fills,
// drops, repair rounds,
// tombstone collection), each a send, an adapted reply and a retry timer against the same
// snapshot and status. Splitting by kind would give four actors that must agree on one snapshot.
/**
 * Runs this node's part of every ring epoch (see {@link EpochWork} for the rules): in the first
 * step of a transition it fills the ranges it gains from their old replicas and then reports the
 * epoch filled to the ring, which moves reads to the new ring only once every gainer has; at a
 * stable epoch it deletes what it no longer replicates; after losing its data it refills its ranges
 * before answering reads there ({@link ReplicaStatus}); and every {@code anti-entropy-interval} it
 * repairs the ranges it is primary for with their other replicas (Merkle trees) and then collects
 * tombstones every replica holds.
 *
 * <p>It never changes what the ring is: a fill that cannot meet its bar (too few old replicas
 * answer) is retried every {@code fill-retry-interval} and shown in {@link Status#fillBlocked}, and
 * the range stays in transition until it succeeds or an operator removes the dead member.
 */
public final class StabilizationPlanner extends AbstractBehavior<StabilizationPlanner.Command> {

  public sealed interface Command {}

  /** A new ring epoch from the RingActor. */
  public record RingChanged(RingSnapshot snapshot) implements Command {}

  /** Runs an anti-entropy round now; answers how many sessions it started. */
  public record RepairNow(ActorRef<RepairStarted> replyTo) implements Command {}

  public record RepairStarted(int sessions, List<String> peers) {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /**
   * What {@code /cluster/stabilization} shows. {@code settled}: this node is at a stable epoch with
   * nothing left to fill or refill (what scripts wait for). {@code pendingOwned}: ranges it
   * replicates at this epoch but has not filled yet, -1 before it knows an epoch. {@code
   * rangesToFill}: ranges gained in the current transition and not filled yet; {@code
   * recoveringRanges}: ranges not refilled since this node lost its data (reads there are not
   * answered); {@code fillBlocked}: why the last fill failed.
   */
  public record Status(
      long epoch,
      boolean settled,
      int pendingOwned,
      boolean inTransition,
      boolean readsMoved,
      int rangesToFill,
      boolean filledReported,
      String fillBlocked,
      int recoveringRanges,
      int fetchesInFlight,
      int repairsInFlight,
      long keysFetched,
      long bytesFetched,
      long repairRounds,
      long keysRepaired,
      long mismatchedLeaves,
      Map<String, String> lastRepairByPeer,
      long keysDeleted,
      long tombstonesPurged) {}

  /** How often the planner retries and repairs; see reference.conf for each. */
  public record Timing(
      Duration antiEntropyInterval, Duration fillRetryInterval, Duration tombstoneGrace) {}

  private record FetchFinished(Stabilizer.FetchDone done) implements Command {}

  private record DropFinished(Stabilizer.DropDone done) implements Command {}

  private record CollectFinished(Stabilizer.CollectDone done) implements Command {}

  private record RepairFinished(Stabilizer.RepairDone done) implements Command {}

  /** A membership change: which members SWIM holds DEAD or LEFT decides the order of sources. */
  private record MemberChanged(MemberEvent event) implements Command {}

  private enum Tick implements Command {
    FILL_RETRY,
    ANTI_ENTROPY
  }

  /**
   * This node as the planner sees it: who it is, who carries out its sessions and whom it tells of
   * its progress.
   *
   * @param self this node's name
   * @param writeQuorum W: a fill merges {@code replicas - W + 1} old replicas
   * @param stabilizer this node's Stabilizer, which runs the sessions
   * @param peers a peer's Stabilizer by node name (null when its address is unknown)
   * @param status where refill progress is published for the StorageActor and the Stabilizer
   * @param filled told each epoch whose gained ranges this node has filled (the ring's FillDone)
   */
  public record Node(
      String self,
      int writeQuorum,
      ActorRef<Stabilizer.Command> stabilizer,
      Function<String, ActorRef<Stabilizer.Command>> peers,
      ReplicaStatus status,
      LongConsumer filled) {}

  /**
   * @param ring the RingActor, whose every new epoch this planner subscribes to
   * @param node this node's name, W, stabilizers and where progress goes
   * @param timing intervals, see {@link Timing}
   * @param metrics where streamed keys and Merkle mismatches are counted
   * @param wallMillis the wall clock tombstone ages are measured on: the one the node's hybrid
   *     clock reads (shifted by {@code dht.testing.clock-offset} in fault-injection tests)
   * @param membership the membership actor this planner subscribes to, to try live sources first;
   *     null in tests that send no membership events
   */
  public static Behavior<Command> create(
      ActorRef<RingActor.Command> ring,
      Node node,
      Timing timing,
      Metrics metrics,
      LongSupplier wallMillis,
      ActorRef<MembershipActor.Command> membership) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Tick.ANTI_ENTROPY, timing.antiEntropyInterval());
                  ring.tell(
                      new RingActor.Subscribe(
                          context.messageAdapter(RingSnapshot.class, RingChanged::new)));
                  if (membership != null) {
                    membership.tell(
                        new MembershipActor.Subscribe(
                            context.messageAdapter(MemberEvent.class, MemberChanged::new)));
                  }
                  return new StabilizationPlanner(
                      context, timers, node, timing, metrics, wallMillis);
                }));
  }

  private final TimerScheduler<Command> timers;

  /** The wall clock tombstone ages are measured on (the hybrid clock's). */
  private final LongSupplier wallMillis;

  private final String self;
  private final int writeQuorum;
  private final ActorRef<Stabilizer.Command> stabilizer;
  private final Function<String, ActorRef<Stabilizer.Command>> peers;
  private final ReplicaStatus status;
  private final LongConsumer filled;
  private final Timing timing;
  private final Metrics metrics;
  private final ActorRef<Stabilizer.FetchDone> fetchAdapter;
  private final ActorRef<Stabilizer.RepairDone> repairAdapter;
  private final ActorRef<Stabilizer.DropDone> dropAdapter;
  private final ActorRef<Stabilizer.CollectDone> collectAdapter;

  private RingSnapshot current;

  /** Fills of the current epoch (gains, or refills) not yet done, by range. */
  private final Map<TokenRange, EpochWork.Fill> toFill = new LinkedHashMap<>();

  /** Fetches running, of this epoch or an earlier one. */
  private final java.util.Set<InFlight> inFlight = new java.util.HashSet<>();

  private record InFlight(TokenRange range, long epoch) {}

  /** Members SWIM holds DEAD or LEFT, as this node last heard. */
  private final Set<String> down = new HashSet<>();

  /** Whether {@link #toFill} holds refills (this node lost its data) rather than gains. */
  private boolean refilling;

  /** The highest epoch reported filled. */
  private long reported = -1;

  /** The stable epoch whose unheld ranges were last deleted. */
  private long sweptEpoch = -1;

  private String fillBlocked;
  private int dropsInFlight;
  private long droppedThisRound;
  private long keysDeleted;
  private long tombstonesPurged;
  private int collectsInFlight;
  private long purgedThisRound;
  private int repairsInFlight;
  private long keysFetched;
  private long bytesFetched;
  private long repairRounds;
  private long keysRepaired;
  private long mismatchedLeaves;
  private final Map<String, String> lastRepairByPeer = new TreeMap<>();

  private StabilizationPlanner(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Node node,
      Timing timing,
      Metrics metrics,
      LongSupplier wallMillis) {
    super(context);
    this.timers = timers;
    this.wallMillis = wallMillis;
    this.self = node.self();
    this.writeQuorum = node.writeQuorum();
    this.stabilizer = node.stabilizer();
    this.peers = node.peers();
    this.status = node.status();
    this.filled = node.filled();
    this.timing = timing;
    this.metrics = metrics;
    this.fetchAdapter = context.messageAdapter(Stabilizer.FetchDone.class, FetchFinished::new);
    this.repairAdapter = context.messageAdapter(Stabilizer.RepairDone.class, RepairFinished::new);
    this.dropAdapter = context.messageAdapter(Stabilizer.DropDone.class, DropFinished::new);
    this.collectAdapter =
        context.messageAdapter(Stabilizer.CollectDone.class, CollectFinished::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RingChanged.class, this::onRingChanged)
        .onMessage(MemberChanged.class, this::onMemberChanged)
        .onMessage(FetchFinished.class, this::onFetchFinished)
        .onMessage(RepairFinished.class, this::onRepairFinished)
        .onMessage(RepairNow.class, this::onRepairNow)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessageEquals(Tick.FILL_RETRY, this::startFills)
        .onMessageEquals(Tick.ANTI_ENTROPY, this::onAntiEntropyTick)
        .onMessage(DropFinished.class, this::onDropFinished)
        .onMessage(CollectFinished.class, this::onCollectFinished)
        .build();
  }

  // ---- fills ----

  private Behavior<Command> onRingChanged(RingChanged changed) {
    RingSnapshot next = changed.snapshot();
    if (current != null && next.epoch() <= current.epoch()) {
      return this;
    }
    current = next;
    toFill.clear();
    fillBlocked = null;
    refilling = false;
    if (next.epoch() == 0) {
      return this;
    }
    planRecovery();
    if (!refilling) {
      for (EpochWork.Fill fill : EpochWork.fills(self, next, writeQuorum)) {
        toFill.put(fill.range(), fill);
      }
      if (next.filling()) {
        getContext()
            .getLog()
            .info(
                "ring epoch {}: {} gains {} range(s), filling each from its old replicas",
                next.epoch(),
                self,
                toFill.size());
      }
    }
    sweepUnheld();
    return startFills();
  }

  /**
   * A node that started with an empty data directory refills what it replicates in the read ring
   * before answering reads there; once it is a replica of nothing (a joiner), there is nothing to
   * recover and it fills through transitions like any other node.
   */
  private void planRecovery() {
    if (status.recovering().isEmpty()) {
      return;
    }
    HashRing ring = current.ring();
    if (!ring.contains(self)) {
      status.setRecovering(TokenRangeSet.empty());
      return;
    }
    List<EpochWork.Fill> refills = EpochWork.refills(self, ring, writeQuorum);
    TokenRangeSet recovering = TokenRangeSet.empty();
    for (EpochWork.Fill fill : refills) {
      toFill.put(fill.range(), fill);
      recovering = recovering.plus(fill.range());
    }
    status.setRecovering(recovering);
    refilling = !refills.isEmpty();
    if (refilling) {
      getContext()
          .getLog()
          .info(
              "ring epoch {}: {} started with no data but replicates {} range(s); "
                  + "it answers no reads there until each is refilled from the other replicas",
              current.epoch(),
              self,
              refills.size());
    }
  }

  private Behavior<Command> onMemberChanged(MemberChanged changed) {
    MemberEvent event = changed.event();
    if (event instanceof MemberEvent.SelfRefuted || event instanceof MemberEvent.SelfAway) {
      return this;
    }
    Member member = event.member();
    if (member.status() == MemberStatus.DEAD || member.status() == MemberStatus.LEFT) {
      down.add(member.name());
    } else {
      down.remove(member.name());
    }
    return this;
  }

  /**
   * A fill's sources with the members SWIM holds DEAD or LEFT last: each source that does not
   * answer costs a step timeout before the next is tried, so after a crash every range the dead
   * member held would otherwise wait one out. A down source stays in the list (SWIM may be wrong,
   * and the bar counts old replicas, not live ones).
   */
  static List<String> liveFirst(List<String> sources, Set<String> down) {
    List<String> ordered = new ArrayList<>(sources.size());
    for (String name : sources) {
      if (!down.contains(name)) {
        ordered.add(name);
      }
    }
    for (String name : sources) {
      if (down.contains(name)) {
        ordered.add(name);
      }
    }
    return ordered;
  }

  private Behavior<Command> startFills() {
    if (current == null) {
      return this;
    }
    int started = 0;
    for (EpochWork.Fill fill : toFill.values()) {
      if (!inFlight.add(new InFlight(fill.range(), current.epoch()))) {
        continue;
      }
      List<Stabilizer.Source> sources = new ArrayList<>();
      List<String> ordered = liveFirst(fill.sources(), down);
      long up = ordered.stream().filter(name -> !down.contains(name)).count();
      if (up < fill.mergeFrom() && fillBlocked == null) {
        // said at once, not after each down source's step timeout: the fetch still runs, as
        // SWIM may be wrong; it is cleared once every range is filled or the epoch moves on
        fillBlocked =
            fill.range()
                + ": only "
                + up
                + " of its old replicas "
                + fill.sources()
                + " are up, "
                + fill.mergeFrom()
                + " needed";
        getContext()
            .getLog()
            .info(
                "ring epoch {}: {} cannot fill {} yet ({}); the range stays in transition",
                current.epoch(),
                self,
                fill.range(),
                fillBlocked);
      }
      for (String name : ordered) {
        ActorRef<Stabilizer.Command> ref = peers.apply(name);
        if (ref != null) {
          sources.add(new Stabilizer.Source(name, ref));
        }
      }
      // never fewer sources than the bar: a fill that cannot meet it stays pending
      stabilizer.tell(
          new Stabilizer.Fetch(
              fill.range(), current.epoch(), sources, fill.mergeFrom(), fetchAdapter));
      started++;
    }
    if (started > 0) {
      getContext()
          .getLog()
          .debug("ring epoch {}: {} started {} fill(s)", current.epoch(), self, started);
    }
    checkFilled();
    return this;
  }

  private Behavior<Command> onFetchFinished(FetchFinished finished) {
    Stabilizer.FetchDone done = finished.done();
    inFlight.remove(new InFlight(done.range(), done.epoch()));
    if (current == null || done.epoch() != current.epoch() || !toFill.containsKey(done.range())) {
      return this; // a fill of an earlier epoch: its result says nothing about this one
    }
    if (done.ok()) {
      toFill.remove(done.range());
      keysFetched += done.keys();
      bytesFetched += done.bytes();
      metrics.keysStreamed(done.keys());
      if (refilling) {
        status.setRecovering(status.recovering().minus(done.range()));
      }
      checkFilled();
    } else {
      if (fillBlocked == null) {
        getContext()
            .getLog()
            .info(
                "ring epoch {}: {} cannot fill {} yet ({}); the range stays in transition, "
                    + "retrying every {} ms",
                current.epoch(),
                self,
                done.range(),
                done.error(),
                timing.fillRetryInterval().toMillis());
      }
      fillBlocked = done.range() + ": " + done.error();
      if (!timers.isTimerActive(Tick.FILL_RETRY)) {
        timers.startSingleTimer(Tick.FILL_RETRY, timing.fillRetryInterval());
      }
    }
    return this;
  }

  /** Reports the epoch once every gained range is filled; a refill promotes its ranges itself. */
  private void checkFilled() {
    if (!toFill.isEmpty()) {
      return;
    }
    fillBlocked = null;
    if (refilling) {
      refilling = false;
      getContext()
          .getLog()
          .info(
              "ring epoch {}: {} refilled every range it replicates ({} keys)",
              current.epoch(),
              self,
              keysFetched);
      // the epoch may also be a transition in which this node gains ranges
      for (EpochWork.Fill fill : EpochWork.fills(self, current, writeQuorum)) {
        toFill.put(fill.range(), fill);
      }
      if (!toFill.isEmpty()) {
        startFills();
        return;
      }
    }
    // in the second step of a transition there is nothing to fill: the report then says this
    // node is at the epoch, which fences every older request here (the ring's barrier)
    if (current.inTransition() && reported < current.epoch()) {
      reported = current.epoch();
      if (current.filling()) {
        getContext()
            .getLog()
            .info(
                "ring epoch {}: {} holds every range it gains; reported filled",
                current.epoch(),
                self);
      }
      filled.accept(current.epoch());
    }
  }

  // ---- deleting what this node no longer replicates ----

  private void sweepUnheld() {
    TokenRangeSet unheld = EpochWork.unheld(self, current);
    if (unheld.isEmpty() || sweptEpoch == current.epoch()) {
      return;
    }
    sweptEpoch = current.epoch();
    for (TokenRange r : unheld.ranges()) {
      stabilizer.tell(new Stabilizer.Drop(r, dropAdapter));
      dropsInFlight++;
    }
  }

  private Behavior<Command> onDropFinished(DropFinished finished) {
    Stabilizer.DropDone done = finished.done();
    if (!done.ok()) {
      getContext()
          .getLog()
          .warn("deleting {} on {} failed ({}); retrying", done.range(), self, done.error());
      stabilizer.tell(new Stabilizer.Drop(done.range(), dropAdapter));
      return this;
    }
    dropsInFlight--;
    keysDeleted += done.deleted();
    metrics.keysHandedOff(done.deleted());
    droppedThisRound += done.deleted();
    if (dropsInFlight == 0 && droppedThisRound > 0) {
      getContext()
          .getLog()
          .info(
              "ring epoch {}: {} deleted {} key(s) it no longer replicates",
              current == null ? 0 : current.epoch(),
              self,
              droppedThisRound);
      droppedThisRound = 0;
    }
    return this;
  }

  // ---- anti-entropy and tombstone collection, at stable epochs ----

  /** A round still running when the next is due is not doubled: rounds never pile up. */
  private Behavior<Command> onAntiEntropyTick() {
    if (repairsInFlight == 0) {
      startRepairRound();
    }
    return this;
  }

  private Behavior<Command> onRepairNow(RepairNow request) {
    request.replyTo().tell(startRepairRound());
    return this;
  }

  /** Ranges this node is primary for, grouped by the other replicas, when stable and whole. */
  private Map<List<String>, TokenRangeSet> primaryRanges() {
    Map<List<String>, TokenRangeSet> out = new LinkedHashMap<>();
    if (current == null
        || current.epoch() == 0
        || current.inTransition()
        || !status.recovering().isEmpty()) {
      return out;
    }
    HashRing ring = current.ring();
    for (var owned : dhtnode.ring.RingTransition.replicated(self, ring)) {
      List<String> replicas = owned.oldReplicas();
      if (!replicas.get(0).equals(self)) {
        continue;
      }
      out.merge(
          replicas.subList(1, replicas.size()),
          TokenRangeSet.empty().plus(owned.range()),
          (a, b) -> a.plus(owned.range()));
    }
    return out;
  }

  /** One Merkle repair per (peer, range) for the ranges this node is primary for. */
  private RepairStarted startRepairRound() {
    Map<String, List<TokenRange>> byPeer = new TreeMap<>();
    primaryRanges()
        .forEach(
            (others, ranges) -> {
              for (String peer : others) {
                byPeer.computeIfAbsent(peer, k -> new ArrayList<>()).addAll(ranges.ranges());
              }
            });
    int sessions = 0;
    for (Map.Entry<String, List<TokenRange>> e : byPeer.entrySet()) {
      ActorRef<Stabilizer.Command> peer = peers.apply(e.getKey());
      if (peer == null) {
        continue;
      }
      for (TokenRange r : TokenRangeSet.of(e.getValue()).ranges()) {
        stabilizer.tell(new Stabilizer.Repair(r, current.epoch(), e.getKey(), peer, repairAdapter));
        sessions++;
      }
    }
    repairsInFlight += sessions;
    if (sessions == 0) {
      collectTombstones();
    } else {
      repairRounds++;
      getContext()
          .getLog()
          .debug("anti-entropy round on {}: {} range(s) with {}", self, sessions, byPeer.keySet());
    }
    return new RepairStarted(sessions, List.copyOf(byPeer.keySet()));
  }

  private Behavior<Command> onRepairFinished(RepairFinished finished) {
    Stabilizer.RepairDone done = finished.done();
    repairsInFlight = Math.max(0, repairsInFlight - 1);
    if (repairsInFlight == 0) {
      collectTombstones();
    }
    keysRepaired += done.keysPulled() + done.keysPushed();
    mismatchedLeaves += done.mismatchedLeaves();
    metrics.merkleMismatches(done.mismatchedLeaves());
    lastRepairByPeer.put(
        done.peerName(), Instant.now() + (done.ok() ? " ok" : " failed: " + done.error()));
    return this;
  }

  /**
   * For the ranges this node is primary for, purges tombstones older than the grace period that
   * every replica holds (see {@link TombstoneCollector}); run after each anti-entropy round, which
   * spreads tombstones to every replica first.
   */
  private void collectTombstones() {
    if (collectsInFlight > 0) {
      return;
    }
    long cutoff =
        HybridClock.timestampAt(wallMillis.getAsLong() - timing.tombstoneGrace().toMillis());
    primaryRanges()
        .forEach(
            (others, ranges) -> {
              List<Stabilizer.Source> sources = new ArrayList<>();
              for (String name : others) {
                ActorRef<Stabilizer.Command> ref = peers.apply(name);
                if (ref != null) {
                  sources.add(new Stabilizer.Source(name, ref));
                }
              }
              if (sources.size() != others.size()) {
                return; // a replica that cannot be asked cannot confirm
              }
              for (TokenRange r : ranges.ranges()) {
                stabilizer.tell(
                    new Stabilizer.CollectTombstones(
                        r, current.epoch(), sources, cutoff, collectAdapter));
                collectsInFlight++;
              }
            });
  }

  private Behavior<Command> onCollectFinished(CollectFinished finished) {
    Stabilizer.CollectDone done = finished.done();
    collectsInFlight--;
    tombstonesPurged += done.purged();
    metrics.tombstonesPurged(done.purged());
    purgedThisRound += done.purged();
    if (!done.ok()) {
      getContext()
          .getLog()
          .debug("tombstone collection of {} on {} stopped: {}", done.range(), self, done.error());
    }
    if (collectsInFlight == 0 && purgedThisRound > 0) {
      getContext()
          .getLog()
          .info(
              "{} purged {} tombstone(s) older than {} s, held by every replica",
              self,
              purgedThisRound,
              timing.tombstoneGrace().toSeconds());
      purgedThisRound = 0;
    }
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    int pendingOwned =
        current == null || current.epoch() == 0
            ? -1
            : refilling ? status.recovering().ranges().size() : toFill.size();
    get.replyTo()
        .tell(
            new Status(
                current == null ? 0 : current.epoch(),
                pendingOwned == 0 && !current.inTransition(),
                pendingOwned,
                current != null && current.inTransition(),
                current != null && current.readsMoved(),
                refilling ? 0 : toFill.size(),
                current != null && reported >= current.epoch(),
                fillBlocked,
                status.recovering().ranges().size(),
                inFlight.size(),
                repairsInFlight,
                keysFetched,
                bytesFetched,
                repairRounds,
                keysRepaired,
                mismatchedLeaves,
                Map.copyOf(lastRepairByPeer),
                keysDeleted,
                tombstonesPurged));
    return this;
  }
}
