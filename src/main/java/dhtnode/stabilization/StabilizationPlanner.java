package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dhtnode.metrics.Metrics;
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
      Map<String, String> lastRepairByPeer) {}

  private record FetchFinished(Stabilizer.FetchDone done) implements Command {}

  private record RepairFinished(Stabilizer.RepairDone done) implements Command {}

  private enum Tick implements Command { PLAN, FILL_RETRY, ANTI_ENTROPY }

  /** Pending segments filled together: from the same sources, the same way. */
  private record FillGroup(List<String> sources, boolean resync) {}

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
   * @param ringSettleDelay fills are planned once the ring has not changed for this long
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
      Duration antiEntropyInterval,
      Duration fillRetryInterval,
      Duration ringSettleDelay,
      Metrics metrics) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.ANTI_ENTROPY, antiEntropyInterval);
      ring.tell(new RingActor.Subscribe(context.messageAdapter(RingSnapshot.class, RingChanged::new)));
      return new StabilizationPlanner(context, timers, self, replicationFactor, writeQuorum, stabilizer,
          peers, pending, mayFillAlone, memory, fillRetryInterval, ringSettleDelay, metrics);
    }));
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
  private final Metrics metrics;
  private final ActorRef<Stabilizer.FetchDone> fetchAdapter;
  private final ActorRef<Stabilizer.RepairDone> repairAdapter;

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
      Duration fillRetryInterval,
      Duration ringSettleDelay,
      Metrics metrics) {
    super(context);
    this.metrics = metrics;
    this.ringSettleDelay = ringSettleDelay;
    this.timers = timers;
    this.self = self;
    this.mergeFrom = replicationFactor - writeQuorum + 1;
    this.stabilizer = stabilizer;
    this.peers = peers;
    this.pending = pending;
    this.mayFillAlone = mayFillAlone;
    this.memory = memory;
    this.fillRetryInterval = fillRetryInterval;
    this.fetchAdapter = context.messageAdapter(Stabilizer.FetchDone.class, FetchFinished::new);
    this.repairAdapter = context.messageAdapter(Stabilizer.RepairDone.class, RepairFinished::new);
    // nothing is trusted until filled: a restarted node may have missed writes while it was down
    pending.set(TokenRangeSet.empty().plus(TokenRange.full()));
    resync = memory.recall().isPresent() ? TokenRangeSet.empty().plus(TokenRange.full()) : TokenRangeSet.empty();
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
        .build();
  }

  // ---- pending ranges and fills ----

  private Behavior<Command> onRingChanged(RingChanged changed) {
    RingSnapshot next = changed.snapshot();
    if (current != null) {
      RangeDiff diff = RangeDiff.of(self, current.ring(), next.ring());
      TokenRangeSet p = pending.get();
      for (TokenRange gained : diff.gained()) {
        p = p.plus(gained);
        resync = resync.minus(gained);
      }
      pending.set(p);
      if (!diff.gained().isEmpty()) {
        getContext().getLog().info("ring epoch {}: {} gained {} range(s), pending until filled from {} replica(s)",
            next.epoch(), self, diff.gained().size(), mergeFrom);
      }
      previous = current.ring();
    }
    current = next;
    // a joining node learns the members one event at a time: plan once the ring has settled,
    // not for every intermediate ring (each would fetch ranges the final ring takes away)
    timers.startSingleTimer(Tick.PLAN, ringSettleDelay);
    return this;
  }

  private Behavior<Command> onSelfExcluded(SelfExcluded excluded) {
    getContext().getLog().info("{} was excluded from the cluster (heard from {}): every range is pending until refilled",
        self, excluded.by());
    pending.set(TokenRangeSet.empty().plus(TokenRange.full()));
    resync = TokenRangeSet.empty().plus(TokenRange.full());
    settledLogged = false;
    return planFills();
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
      FillGroup group = new FillGroup(sources(token, ring, withoutSelf), resync.contains(token));
      segmentsByGroup.computeIfAbsent(group, k -> new ArrayList<>()).add(segment);
    }
    Map<FillGroup, TokenRangeSet> groups = new LinkedHashMap<>();
    segmentsByGroup.forEach((group, segments) -> groups.put(group, TokenRangeSet.of(segments)));
    int started = 0;
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
        continue;
      }
      int merge = Math.min(mergeFrom, sources.size());
      for (TokenRange r : group.getValue().ranges()) {
        if (!fetching.add(r)) {
          continue;
        }
        if (group.getKey().resync()) {
          resyncing.add(r);
          stabilizer.tell(new Stabilizer.Resync(r, sources, merge, fetchAdapter));
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
    if (sessions > 0) {
      repairRounds++;
      getContext().getLog().info("anti-entropy round on {}: {} range(s) with {}", self, sessions, byPeer.keySet());
    }
    return new RepairStarted(sessions, List.copyOf(byPeer.keySet()));
  }

  private Behavior<Command> onRepairFinished(RepairFinished finished) {
    Stabilizer.RepairDone done = finished.done();
    repairsInFlight = Math.max(0, repairsInFlight - 1);
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
        Map.copyOf(lastRepairByPeer)));
    return this;
  }
}
