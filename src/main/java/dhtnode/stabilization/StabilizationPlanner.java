package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dhtnode.metrics.Metrics;
import dhtnode.replication.HybridClock;
import dhtnode.ring.HashRing;
import dhtnode.ring.RangeDiff;
import dhtnode.ring.RingActor;
import dhtnode.ring.RingSnapshot;
import dhtnode.ring.TokenRange;
import dhtnode.ring.TokenRangeSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Decides what this node's {@link Stabilizer} does, so that every key gets back to N replicas
 * after joins, leaves and failures without a quorum read ever missing an acknowledged write.
 *
 * <p>It owns this node's <em>pending</em> ranges ({@link PendingRanges}): everything at start, the
 * ranges it gains on each ring change, and everything again when it learns the cluster had
 * excluded it (declared it DEAD or LEFT while it was away). While pending for a key, the local
 * {@code StorageActor} still applies writes but answers coordinators with {@code PendingReplica},
 * which never counts toward R or W. A pending range is filled by merging it from
 * {@code N - W + 1} other replicas (the replicas of the current ring, of the ring without this
 * node, and of the previous ring), which meets every write quorum that acknowledged a write
 * before; then it is promoted: this node counts as a replica for it again. A node with no other
 * replica to fill from (the seed of a new cluster, or a restarted one-node cluster) is filled at
 * once only when that is known to be safe; otherwise it waits for the cluster.
 *
 * <p>It also runs anti-entropy: every {@code anti-entropy-interval}, and on demand, for each
 * segment of the ring this node is primary for, a Merkle {@link Stabilizer.Repair} with each
 * other replica. Ranges this node loses are kept, not deleted (see docs/stabilization.md).
 */
public final class StabilizationPlanner extends AbstractBehavior<StabilizationPlanner.Command> {

  public sealed interface Command {}

  /** A new ring from the RingActor. */
  public record RingChanged(RingSnapshot snapshot) implements Command {}

  /** The cluster had declared this node DEAD or LEFT: it may have missed writes since. */
  public record SelfExcluded(String by) implements Command {}

  /** Runs an anti-entropy round now; answers how many sessions it started. */
  public record RepairNow(ActorRef<RepairStarted> replyTo) implements Command {}

  public record RepairStarted(int sessions, List<String> peers) {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /**
   * What {@code /cluster/stabilization} shows. {@code pendingOwned} counts ranges this node is a
   * replica of in the current ring but not yet filled for: while it is above zero this node does
   * not count toward quorums for those keys.
   */
  public record Status(
      long epoch,
      int pendingOwned,
      List<String> pendingRanges,
      int fetchesInFlight,
      int repairsInFlight,
      long keysFetched,
      long bytesFetched,
      long keysResynced,
      long repairRounds,
      long keysRepaired,
      long mismatchedLeaves,
      Map<String, String> lastRepairByPeer,
      int lostRangesKept,
      long keysHandedOff,
      long tombstonesPurged) {}

  /** How often and how long the planner waits for things; see reference.conf for each. */
  public record Timing(Duration antiEntropyInterval, Duration fillRetryInterval, Duration ringSettleDelay,
      Duration handoffCheckInterval, Duration tombstoneGrace) {}

  private record FetchFinished(Stabilizer.FetchDone done) implements Command {}

  private record DropFinished(Stabilizer.DropDone done) implements Command {}

  private record CollectFinished(Stabilizer.CollectDone done) implements Command {}

  /** One new owner's answer to which lost ranges it holds; {@code held} null if it did not answer. */
  private record HandoffChecked(long epoch, List<String> owners, String owner, List<TokenRange> held)
      implements Command {}

  private record RepairFinished(Stabilizer.RepairDone done) implements Command {}

  private enum Tick implements Command { PLAN, FILL_RETRY, ANTI_ENTROPY, HANDOFF, ALIVE }

  private static final TokenRangeSet EVERYTHING = TokenRangeSet.empty().plus(TokenRange.full());

  /** Pending segments filled together: from the same sources, the same way. */
  private record FillGroup(List<String> sources, boolean resync, boolean replace) {}

  /**
   * @param ring the RingActor, whose every new ring this planner subscribes to
   * @param self this node's name
   * @param replicationFactor N
   * @param writeQuorum W: a pending range is merged from N - W + 1 sources
   * @param stabilizer this node's Stabilizer, which runs the fetch and repair sessions
   * @param peers a peer's Stabilizer by node name (null when its address is unknown)
   * @param pending where the pending ranges are published for the StorageActor
   * @param mayFillAlone whether ranges with no other replica to fill from may be promoted at once
   *     (a new cluster's seed; a one-node cluster restarting), see {@link ClusterMemory}
   * @param memory where the members of a settled ring are remembered across restarts
   * @param timing intervals and delays, see {@link Timing}
   * @param metrics where streamed keys and Merkle mismatches are counted
   */
  public static Behavior<Command> create(
      ActorRef<RingActor.Command> ring,
      String self,
      int replicationFactor,
      int writeQuorum,
      ActorRef<Stabilizer.Command> stabilizer,
      Function<String, ActorRef<Stabilizer.Command>> peers,
      PendingRanges pending,
      boolean mayFillAlone,
      ClusterMemory memory,
      Timing timing,
      Metrics metrics) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.ANTI_ENTROPY, timing.antiEntropyInterval());
      timers.startTimerWithFixedDelay(Tick.HANDOFF, timing.handoffCheckInterval());
      timers.startTimerWithFixedDelay(Tick.ALIVE, aliveInterval(timing.tombstoneGrace()));
      ring.tell(new RingActor.Subscribe(context.messageAdapter(RingSnapshot.class, RingChanged::new)));
      return new StabilizationPlanner(context, timers, self, replicationFactor, writeQuorum, stabilizer,
          peers, pending, mayFillAlone, memory, timing, metrics);
    }));
  }

  /** Often enough that an absence longer than half the grace period is always noticed. */
  private static Duration aliveInterval(Duration grace) {
    Duration step = grace.dividedBy(20);
    return step.compareTo(Duration.ofSeconds(10)) < 0 ? step : Duration.ofSeconds(10);
  }

  private final TimerScheduler<Command> timers;
  private final String self;
  private final int mergeFrom;
  private final ActorRef<Stabilizer.Command> stabilizer;
  private final Function<String, ActorRef<Stabilizer.Command>> peers;
  private final PendingRanges pending;
  private final boolean mayFillAlone;
  private final ClusterMemory memory;
  private final Duration fillRetryInterval;
  private final Duration ringSettleDelay;
  private final Timing timing;
  private final Metrics metrics;
  private final ActorRef<Stabilizer.FetchDone> fetchAdapter;
  private final ActorRef<Stabilizer.RepairDone> repairAdapter;
  private final ActorRef<Stabilizer.DropDone> dropAdapter;
  private final ActorRef<Stabilizer.CollectDone> collectAdapter;

  private RingSnapshot current;
  private HashRing previous;
  private final Set<TokenRange> fetching = new LinkedHashSet<>();
  /** Fills in flight that are resyncs (Merkle), not streams. */
  private final Set<TokenRange> resyncing = new LinkedHashSet<>();
  /**
   * Pending ranges whose local data is this node's own from when it was a replica (it restarted,
   * or was excluded while away): filled by Merkle resync, which moves only what differs. Ranges
   * gained from another node are streamed.
   */
  private TokenRangeSet resync;
  /** Ranges this node replicated before and no longer does, kept until their new owners hold them. */
  private TokenRangeSet lost = TokenRangeSet.empty();
  /** The epoch of the handoff check in flight, and what its owners answered so far. */
  private long handoffEpoch = -1;
  private final Map<List<String>, HandoffGroup> handoffGroups = new LinkedHashMap<>();
  private int dropsInFlight;
  private long droppedThisRound;
  private long keysHandedOff;
  private long tombstonesPurged;
  private int collectsInFlight;
  private long purgedThisRound;
  /**
   * Pending ranges whose local copy may be too old to merge (this node was away longer than half
   * the tombstone grace period): replaced from the sources if they hold the range, see
   * {@link Stabilizer.Resync#replaceWhenHeld}.
   */
  private TokenRangeSet replace = TokenRangeSet.empty();
  private long lastAlive;
  private int repairsInFlight;
  private long keysFetched;
  private long bytesFetched;
  private long keysResynced;
  private long repairRounds;
  private long keysRepaired;
  private long mismatchedLeaves;
  private final Map<String, String> lastRepairByPeer = new TreeMap<>();
  private boolean settledLogged;

  private StabilizationPlanner(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String self,
      int replicationFactor,
      int writeQuorum,
      ActorRef<Stabilizer.Command> stabilizer,
      Function<String, ActorRef<Stabilizer.Command>> peers,
      PendingRanges pending,
      boolean mayFillAlone,
      ClusterMemory memory,
      Timing timing,
      Metrics metrics) {
    super(context);
    this.metrics = metrics;
    this.timing = timing;
    this.ringSettleDelay = timing.ringSettleDelay();
    this.timers = timers;
    this.self = self;
    this.mergeFrom = replicationFactor - writeQuorum + 1;
    this.stabilizer = stabilizer;
    this.peers = peers;
    this.pending = pending;
    this.mayFillAlone = mayFillAlone;
    this.memory = memory;
    this.fillRetryInterval = timing.fillRetryInterval();
    this.fetchAdapter = context.messageAdapter(Stabilizer.FetchDone.class, FetchFinished::new);
    this.repairAdapter = context.messageAdapter(Stabilizer.RepairDone.class, RepairFinished::new);
    this.dropAdapter = context.messageAdapter(Stabilizer.DropDone.class, DropFinished::new);
    this.collectAdapter = context.messageAdapter(Stabilizer.CollectDone.class, CollectFinished::new);
    // nothing is trusted until filled: a restarted node may have missed writes while it was down
    pending.set(EVERYTHING);
    resync = TokenRangeSet.empty();
    if (memory.recall().isPresent()) {
      resync = EVERYTHING;
      long away = memory.lastAlive().map(at -> System.currentTimeMillis() - at).orElse(Long.MAX_VALUE);
      if (away > awayLimitMillis()) {
        replaceLocalData(away == Long.MAX_VALUE ? "for an unknown time" : "for " + away / 1000 + " s");
      }
    }
    lastAlive = System.currentTimeMillis();
    memory.markAlive(lastAlive);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RingChanged.class, this::onRingChanged)
        .onMessage(SelfExcluded.class, this::onSelfExcluded)
        .onMessage(FetchFinished.class, this::onFetchFinished)
        .onMessage(RepairFinished.class, this::onRepairFinished)
        .onMessage(RepairNow.class, this::onRepairNow)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessageEquals(Tick.PLAN, this::planFills)
        .onMessageEquals(Tick.FILL_RETRY, this::planFills)
        .onMessageEquals(Tick.ANTI_ENTROPY, this::onAntiEntropyTick)
        .onMessageEquals(Tick.HANDOFF, this::checkHandoff)
        .onMessageEquals(Tick.ALIVE, this::onAlive)
        .onMessage(HandoffChecked.class, this::onHandoffChecked)
        .onMessage(DropFinished.class, this::onDropFinished)
        .onMessage(CollectFinished.class, this::onCollectFinished)
        .build();
  }

  // ---- pending ranges and fills ----

  private Behavior<Command> onRingChanged(RingChanged changed) {
    RingSnapshot next = changed.snapshot();
    TokenRangeSet owned = TokenRangeSet.of(next.ring().ownedRanges(self));
    pending.setOwned(owned);
    if (current == null) {
      // whatever this node holds outside its ranges is left from an earlier ring: hand it off
      lost = EVERYTHING.minus(owned);
    } else {
      RangeDiff diff = RangeDiff.of(self, current.ring(), next.ring());
      TokenRangeSet p = pending.get();
      TokenRangeSet foreign = pending.foreign();
      for (TokenRange lostRange : diff.lost()) {
        lost = lost.plus(lostRange);
      }
      for (TokenRange gained : diff.gained()) {
        p = p.plus(gained);
        resync = resync.minus(gained);
        lost = lost.minus(gained);
        foreign = foreign.minus(gained);
      }
      pending.setForeign(foreign);
      pending.set(p);
      if (!diff.gained().isEmpty()) {
        getContext().getLog().info("ring epoch {}: {} gained {} range(s), pending until filled from {} replica(s)",
            next.epoch(), self, diff.gained().size(), mergeFrom);
      }
      previous = current.ring();
    }
    current = next;
    handoffEpoch = -1; // answers for an older ring no longer count
    handoffGroups.clear();
    // a joining node learns the members one event at a time: plan once the ring has settled,
    // not for every intermediate ring (each would fetch ranges the final ring takes away)
    timers.startSingleTimer(Tick.PLAN, ringSettleDelay);
    return this;
  }

  private Behavior<Command> onSelfExcluded(SelfExcluded excluded) {
    getContext().getLog().info("{} was excluded from the cluster (heard from {}): every range is pending until refilled",
        self, excluded.by());
    pending.set(EVERYTHING);
    resync = EVERYTHING;
    settledLogged = false;
    return planFills();
  }

  /**
   * Notes that this node is running. A gap longer than half the tombstone grace period (the process
   * was paused) means tombstones may have been purged meanwhile that this node's old values
   * would resurrect: every range is pending again and its copy is replaced, not merged.
   */
  private Behavior<Command> onAlive() {
    long now = System.currentTimeMillis();
    long gap = now - lastAlive;
    lastAlive = now;
    memory.markAlive(now);
    if (gap > awayLimitMillis()) {
      pending.set(EVERYTHING);
      resync = EVERYTHING;
      settledLogged = false;
      replaceLocalData("for " + gap / 1000 + " s (paused)");
      return planFills();
    }
    return this;
  }

  /**
   * Half the grace period: a delete this node missed when it left is purged no earlier than a
   * full grace period after it was written, so a node back within half of it has the other half
   * to pull the tombstone before any replica may purge it.
   */
  private long awayLimitMillis() {
    return timing.tombstoneGrace().toMillis() / 2;
  }

  private void replaceLocalData(String away) {
    getContext().getLog().info("{} was away {}, longer than half the tombstone grace period ({} s): every range is "
        + "pending, and replaced from replicas that hold it rather than merged", self, away,
        timing.tombstoneGrace().toSeconds());
    replace = EVERYTHING;
  }

  /** Starts a fetch for every pending segment this node replicates, grouped by source set. */
  private Behavior<Command> planFills() {
    if (current == null) {
      return this;
    }
    HashRing ring = current.ring();
    HashRing withoutSelf = withoutSelf(ring);
    TokenRangeSet p = pending.get();
    Map<FillGroup, List<TokenRange>> segmentsByGroup = new LinkedHashMap<>();
    for (TokenRange segment : segments(ring, previous, withoutSelf)) {
      long token = segment.end();
      if (!p.contains(token) || !ring.preferenceList(token).contains(self)) {
        continue;
      }
      FillGroup group = new FillGroup(sources(token, ring, withoutSelf), resync.contains(token), replace.contains(token));
      segmentsByGroup.computeIfAbsent(group, k -> new ArrayList<>()).add(segment);
    }
    Map<FillGroup, TokenRangeSet> groups = new LinkedHashMap<>();
    segmentsByGroup.forEach((group, segments) -> groups.put(group, TokenRangeSet.of(segments)));
    int started = 0;
    boolean unreachable = false;
    for (Map.Entry<FillGroup, TokenRangeSet> group : groups.entrySet()) {
      List<String> names = group.getKey().sources();
      if (names.isEmpty()) {
        if (mayFillAlone) {
          for (TokenRange r : group.getValue().ranges()) {
            p = p.minus(r);
          }
          pending.set(p);
          getContext().getLog().info("ring epoch {}: {} has no other replica to fill {} range(s) from; a new cluster, so they start empty",
              current.epoch(), self, group.getValue().ranges().size());
        }
        continue;
      }
      List<Stabilizer.Source> sources = new ArrayList<>();
      for (String name : names) {
        ActorRef<Stabilizer.Command> ref = peers.apply(name);
        if (ref != null) {
          sources.add(new Stabilizer.Source(name, ref));
        }
      }
      if (sources.isEmpty()) {
        // no source address known yet (SWIM has not reported them since this node started): the
        // ring may not change again to trigger a new plan, as it did before agreed epochs
        unreachable = true;
        continue;
      }
      int merge = Math.min(mergeFrom, sources.size());
      for (TokenRange r : group.getValue().ranges()) {
        if (!fetching.add(r)) {
          continue;
        }
        if (group.getKey().resync()) {
          resyncing.add(r);
          stabilizer.tell(new Stabilizer.Resync(r, sources, merge, group.getKey().replace(), fetchAdapter));
        } else {
          stabilizer.tell(new Stabilizer.Fetch(r, sources, merge, fetchAdapter));
        }
        started++;
      }
    }
    if (started > 0) {
      getContext().getLog().info("ring epoch {}: {} filling {} pending range(s) from {} source set(s)",
          current.epoch(), self, started, groups.size());
    }
    if (unreachable) {
      timers.startSingleTimer(Tick.FILL_RETRY, fillRetryInterval);
    }
    checkSettled();
    return this;
  }

  private Behavior<Command> onFetchFinished(FetchFinished finished) {
    Stabilizer.FetchDone done = finished.done();
    fetching.remove(done.range());
    boolean resynced = resyncing.remove(done.range());
    if (done.ok()) {
      pending.set(pending.get().minus(done.range()));
      resync = resync.minus(done.range());
      replace = replace.minus(done.range());
      if (resynced) {
        keysResynced += done.keys();
      } else {
        keysFetched += done.keys();
        bytesFetched += done.bytes();
      }
      metrics.keysStreamed(done.keys());
      // the fetch session logged the move itself; the promotion is summed up in checkSettled
      getContext().getLog().debug("range {} promoted on {}: pending -> owner", done.range(), self);
      checkSettled();
    } else {
      getContext().getLog().info("range {} stays pending on {}: {}; retrying in {} ms",
          done.range(), self, done.error(), fillRetryInterval.toMillis());
      timers.startSingleTimer(Tick.FILL_RETRY, fillRetryInterval);
    }
    return this;
  }

  private void checkSettled() {
    int owned = pendingOwned();
    if (owned == 0 && fetching.isEmpty() && current != null) {
      memory.remember(current.ring().members());
      if (!settledLogged) {
        settledLogged = true;
        getContext().getLog().info(
            "ring epoch {}: {} holds every range it replicates, all promoted pending -> owner ({} keys fetched so far)",
            current.epoch(), self, keysFetched);
      }
    }
  }

  /** Replicas that held a token's data: current ring, ring without this node, previous ring. */
  private List<String> sources(long token, HashRing ring, HashRing withoutSelf) {
    Set<String> out = new LinkedHashSet<>();
    out.addAll(ring.preferenceList(token));
    out.addAll(withoutSelf.preferenceList(token));
    if (previous != null) {
      out.addAll(previous.preferenceList(token));
    }
    out.remove(self);
    out.retainAll(ring.members()); // only members that are up can stream
    return List.copyOf(out);
  }

  private HashRing withoutSelf(HashRing ring) {
    Set<String> others = new TreeSet<>(ring.members());
    others.remove(self);
    return HashRing.of(others, ring.vnodes(), ring.replicationFactor());
  }

  /** Ring segments on which every ring involved has one preference list. */
  private static List<TokenRange> segments(HashRing... rings) {
    TreeSet<Long> bounds = new TreeSet<>();
    for (HashRing r : rings) {
      if (r == null) {
        continue;
      }
      for (int i = 0; i < r.size(); i++) {
        bounds.add(r.tokenAt(i));
      }
    }
    List<TokenRange> out = new ArrayList<>(bounds.size());
    if (bounds.isEmpty()) {
      return out;
    }
    if (bounds.size() == 1) {
      out.add(new TokenRange(bounds.first(), bounds.first()));
      return out;
    }
    long prev = bounds.last();
    for (long b : bounds) {
      out.add(new TokenRange(prev, b));
      prev = b;
    }
    return out;
  }

  private int pendingOwned() {
    if (current == null) {
      return -1;
    }
    TokenRangeSet p = pending.get();
    int count = 0;
    for (TokenRange r : current.ring().ownedRanges(self)) {
      if (p.intersects(r)) {
        count++;
      }
    }
    return count;
  }

  // ---- handoff of lost ranges ----

  /** The new owners of some lost ranges, and what they have answered so far. */
  private static final class HandoffGroup {
    final Set<String> waiting;
    final Set<TokenRange> heldByAll;
    boolean failed;

    HandoffGroup(List<String> owners, List<TokenRange> ranges) {
      this.waiting = new LinkedHashSet<>(owners);
      this.heldByAll = new LinkedHashSet<>(ranges);
    }
  }

  /**
   * Asks the current owners of every lost range whether they hold it; a range all of them hold
   * (replicate in their ring and have filled) is deleted here. Only when the ring has settled and
   * this node is not filling, one check at a time.
   */
  private Behavior<Command> checkHandoff() {
    if (current == null || lost.isEmpty() || handoffEpoch != -1 || !fetching.isEmpty()
        || timers.isTimerActive(Tick.PLAN)) {
      return this;
    }
    HashRing ring = current.ring();
    Map<List<String>, List<TokenRange>> byOwners = new LinkedHashMap<>();
    for (TokenRange segment : segments(ring)) {
      TokenRangeSet part = lost.intersect(segment);
      List<String> owners = ring.preferenceList(segment.end());
      if (part.isEmpty() || owners.contains(self)) {
        continue;
      }
      byOwners.computeIfAbsent(owners, k -> new ArrayList<>()).addAll(part.ranges());
    }
    long epoch = current.epoch();
    for (Map.Entry<List<String>, List<TokenRange>> e : byOwners.entrySet()) {
      List<String> owners = e.getKey();
      List<TokenRange> ranges = TokenRangeSet.of(e.getValue()).ranges();
      if (owners.stream().anyMatch(o -> peers.apply(o) == null)) {
        continue;
      }
      handoffGroups.put(owners, new HandoffGroup(owners, ranges));
      for (String owner : owners) {
        getContext().ask(Stabilizer.PeerReply.class, peers.apply(owner), timing.handoffCheckInterval(),
            ref -> new Stabilizer.CheckHeld(ranges, ref),
            (reply, failure) -> new HandoffChecked(epoch, owners, owner,
                reply instanceof Stabilizer.Held held ? held.ranges() : null));
      }
    }
    if (!handoffGroups.isEmpty()) {
      handoffEpoch = epoch;
    }
    return this;
  }

  private Behavior<Command> onHandoffChecked(HandoffChecked checked) {
    HandoffGroup group = handoffGroups.get(checked.owners());
    if (checked.epoch() != handoffEpoch || group == null || !group.waiting.remove(checked.owner())) {
      return this;
    }
    if (checked.held() == null) {
      group.failed = true;
    } else {
      group.heldByAll.retainAll(checked.held());
    }
    if (!group.waiting.isEmpty()) {
      return this;
    }
    handoffGroups.remove(checked.owners());
    if (handoffGroups.isEmpty()) {
      handoffEpoch = -1;
    }
    if (group.failed || group.heldByAll.isEmpty()) {
      return this;
    }
    TokenRangeSet foreign = pending.foreign();
    for (TokenRange r : group.heldByAll) {
      // refuse writes and reads there first, so nothing lands behind the deletion
      foreign = foreign.plus(r);
      lost = lost.minus(r);
    }
    pending.setForeign(foreign);
    for (TokenRange r : group.heldByAll) {
      stabilizer.tell(new Stabilizer.Drop(r, dropAdapter));
      dropsInFlight++;
    }
    getContext().getLog().info("ring epoch {}: {} handed off {} range(s) to {}, which hold them; deleting the local copies",
        current.epoch(), self, group.heldByAll.size(), checked.owners());
    return this;
  }

  private Behavior<Command> onDropFinished(DropFinished finished) {
    Stabilizer.DropDone done = finished.done();
    if (!done.ok()) {
      getContext().getLog().warn("deleting handed-off range {} on {} failed ({}); retrying", done.range(), self, done.error());
      stabilizer.tell(new Stabilizer.Drop(done.range(), dropAdapter));
      return this;
    }
    dropsInFlight--;
    keysHandedOff += done.deleted();
    metrics.keysHandedOff(done.deleted());
    droppedThisRound += done.deleted();
    if (dropsInFlight == 0) {
      getContext().getLog().info("{} deleted {} key(s) of handed-off ranges", self, droppedThisRound);
      droppedThisRound = 0;
    }
    return this;
  }

  // ---- tombstone collection ----

  /**
   * For the ranges this node is primary for, purges tombstones older than the grace period that
   * every replica holds (see {@link TombstoneCollector}); run after each anti-entropy round, which
   * spreads tombstones to every replica first.
   */
  private void collectTombstones() {
    if (current == null || collectsInFlight > 0) {
      return;
    }
    HashRing ring = current.ring();
    TokenRangeSet p = pending.get();
    long cutoff = HybridClock.timestampAt(System.currentTimeMillis() - timing.tombstoneGrace().toMillis());
    Map<List<String>, List<TokenRange>> byPeers = new LinkedHashMap<>();
    for (TokenRange segment : segments(ring)) {
      List<String> replicas = ring.preferenceList(segment.end());
      if (replicas.isEmpty() || !replicas.get(0).equals(self) || p.intersects(segment)) {
        continue;
      }
      byPeers.computeIfAbsent(replicas.subList(1, replicas.size()), k -> new ArrayList<>()).add(segment);
    }
    for (Map.Entry<List<String>, List<TokenRange>> e : byPeers.entrySet()) {
      List<Stabilizer.Source> sources = new ArrayList<>();
      for (String name : e.getKey()) {
        ActorRef<Stabilizer.Command> ref = peers.apply(name);
        if (ref != null) {
          sources.add(new Stabilizer.Source(name, ref));
        }
      }
      if (sources.size() != e.getKey().size()) {
        continue; // a replica that cannot be asked cannot confirm
      }
      for (TokenRange r : TokenRangeSet.of(e.getValue()).ranges()) {
        stabilizer.tell(new Stabilizer.CollectTombstones(r, sources, cutoff, collectAdapter));
        collectsInFlight++;
      }
    }
  }

  private Behavior<Command> onCollectFinished(CollectFinished finished) {
    Stabilizer.CollectDone done = finished.done();
    collectsInFlight--;
    tombstonesPurged += done.purged();
    metrics.tombstonesPurged(done.purged());
    purgedThisRound += done.purged();
    if (!done.ok()) {
      getContext().getLog().debug("tombstone collection of {} on {} stopped: {}", done.range(), self, done.error());
    }
    if (collectsInFlight == 0 && purgedThisRound > 0) {
      getContext().getLog().info("{} purged {} tombstone(s) older than {} s, held by every replica",
          self, purgedThisRound, timing.tombstoneGrace().toSeconds());
      purgedThisRound = 0;
    }
    return this;
  }

  // ---- anti-entropy ----

  private Behavior<Command> onAntiEntropyTick() {
    startRepairRound();
    return this;
  }

  private Behavior<Command> onRepairNow(RepairNow request) {
    request.replyTo().tell(startRepairRound());
    return this;
  }

  /** One Merkle repair per (peer, range) for the segments this node is primary for. */
  private RepairStarted startRepairRound() {
    if (current == null) {
      return new RepairStarted(0, List.of());
    }
    HashRing ring = current.ring();
    TokenRangeSet p = pending.get();
    Map<String, List<TokenRange>> segmentsByPeer = new TreeMap<>();
    for (TokenRange segment : segments(ring)) {
      List<String> replicas = ring.preferenceList(segment.end());
      if (replicas.isEmpty() || !replicas.get(0).equals(self) || p.contains(segment.end())) {
        continue;
      }
      for (String peer : replicas.subList(1, replicas.size())) {
        segmentsByPeer.computeIfAbsent(peer, k -> new ArrayList<>()).add(segment);
      }
    }
    Map<String, TokenRangeSet> byPeer = new TreeMap<>();
    segmentsByPeer.forEach((peer, segments) -> byPeer.put(peer, TokenRangeSet.of(segments)));
    int sessions = 0;
    for (Map.Entry<String, TokenRangeSet> e : byPeer.entrySet()) {
      ActorRef<Stabilizer.Command> peer = peers.apply(e.getKey());
      if (peer == null) {
        continue;
      }
      for (TokenRange r : e.getValue().ranges()) {
        stabilizer.tell(new Stabilizer.Repair(r, e.getKey(), peer, repairAdapter));
        sessions++;
      }
    }
    repairsInFlight += sessions;
    if (sessions == 0) {
      collectTombstones();
    }
    if (sessions > 0) {
      repairRounds++;
      getContext().getLog().info("anti-entropy round on {}: {} range(s) with {}", self, sessions, byPeer.keySet());
    }
    return new RepairStarted(sessions, List.copyOf(byPeer.keySet()));
  }

  private Behavior<Command> onRepairFinished(RepairFinished finished) {
    Stabilizer.RepairDone done = finished.done();
    repairsInFlight = Math.max(0, repairsInFlight - 1);
    if (repairsInFlight == 0) {
      collectTombstones();
    }
    long moved = done.keysPulled() + done.keysPushed();
    keysRepaired += moved;
    mismatchedLeaves += done.mismatchedLeaves();
    metrics.merkleMismatches(done.mismatchedLeaves());
    lastRepairByPeer.put(done.peerName(), Instant.now() + (done.ok() ? " ok" : " failed: " + done.error()));
    if (moved > 0 || !done.ok()) {
      getContext().getLog().info("repaired {} between {} and {}: {} leaves differed, pulled {}, pushed {}{}",
          done.range(), self, done.peerName(), done.mismatchedLeaves(), done.keysPulled(), done.keysPushed(),
          done.ok() ? "" : " (failed: " + done.error() + ")");
    }
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    List<String> ranges = new ArrayList<>();
    for (TokenRange r : pending.get().ranges()) {
      if (ranges.size() == 20) {
        ranges.add("...");
        break;
      }
      ranges.add(r.toString());
    }
    get.replyTo().tell(new Status(
        current == null ? 0 : current.epoch(), Math.max(0, pendingOwned()), ranges, fetching.size(),
        repairsInFlight, keysFetched, bytesFetched, keysResynced, repairRounds, keysRepaired, mismatchedLeaves,
        Map.copyOf(lastRepairByPeer), lost.ranges().size(), keysHandedOff, tombstonesPurged));
    return this;
  }
}
