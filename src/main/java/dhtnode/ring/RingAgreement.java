package dhtnode.ring;

import dhtnode.ring.RingMessage.Accept;
import dhtnode.ring.RingMessage.Accepted;
import dhtnode.ring.RingMessage.Committed;
import dhtnode.ring.RingMessage.EpochQuery;
import dhtnode.ring.RingMessage.EpochState;
import dhtnode.ring.RingMessage.FillDone;
import dhtnode.ring.RingMessage.Nack;
import dhtnode.ring.RingMessage.Prepare;
import dhtnode.ring.RingMessage.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

// Why this file stays long (about 690 lines): it is one deterministic state machine, the etcd-raft
// shape the style guide asks for, and its parts are one protocol: the acceptor's promise and vote,
// the proposer's rounds, catch-up and the fill barrier all read and write the same per-slot state,
// and its safety argument (docs/ring.md) is about that state as a whole. What is separable already
// is: RingConfig, Ballot, RingMessage, RingState, RingTransition and RingPolicy; the simulation
// test runs this class over thousands of faulty schedules, which a split would not make easier.
/**
 * The ring agreement of one node, as a deterministic state machine in the manner of etcd's raft
 * core: its inputs are received {@link RingMessage}s, logical {@link #tick()}s and local requests
 * ({@link #propose}, {@link #found}, {@link #observed}, {@link #reportFillDone}); its outputs,
 * collected by {@link #drain()}, are the messages to send, the state to persist and the epochs
 * committed. It owns no clock, socket or file: the caller must persist {@link Ready#persist()}
 * before it sends any of {@link Ready#messages()}, which is what makes an acceptor's answer
 * durable.
 *
 * <p>Each epoch slot {@code e + 1} is one single-decree Paxos instance whose acceptors are the
 * members (current and next) of the configuration committed for {@code e}; a strict majority of
 * them decides. An acceptor votes on slot {@code s} only while its committed epoch is {@code s -
 * 1}: one that has committed {@code s} or later answers with its latest configuration, one that is
 * behind asks the sender to catch it up first. Since configurations are full states, catching up
 * means taking the latest committed one. Guarantee: no two nodes ever commit different
 * configurations for the same epoch (docs/ring.md gives the argument; {@code
 * RingAgreementSimulationTest} checks it over thousands of faulty schedules).
 */
public final class RingAgreement {

  /** A message for {@code to}. */
  public record Outgoing(RingMember to, RingMessage message) {}

  /**
   * An epoch this node has just committed; {@code proposedHere} if this node's proposal decided it.
   */
  public record Commit(long epoch, RingConfig config, boolean proposedHere) {}

  /**
   * This node's proposal {@code wanted} for {@code slot} was withdrawn before its accept phase: it
   * drops from {@code next} members that acceptors of its promise quorum still see up ({@code
   * seenUpBy}: each such member, with the acceptors that reported it up).
   */
  public record Veto(long slot, RingConfig wanted, Map<String, Set<String>> seenUpBy) {}

  /**
   * The outputs of the steps since the last drain. {@code persist} is null when the durable state
   * did not change; otherwise it must be durable before any message is sent. {@code conflicts}
   * describes any committed configuration heard of that differs from this node's for the same
   * epoch, which the protocol rules out: the caller logs it as an error. {@code vetoes} are this
   * node's proposals withdrawn because they would remove a member some acceptor sees up.
   */
  public record Ready(
      List<Outgoing> messages,
      RingState persist,
      List<Commit> commits,
      List<String> conflicts,
      List<Veto> vetoes) {
    public boolean isEmpty() {
      return messages.isEmpty()
          && persist == null
          && commits.isEmpty()
          && conflicts.isEmpty()
          && vetoes.isEmpty();
    }
  }

  /**
   * Timing in ticks: a proposal attempt is abandoned after {@code proposalTimeout} ticks without a
   * majority and retried after a random backoff of 1..{@code maxBackoff} ticks; a random peer is
   * asked for a later epoch every {@code catchUp} ticks.
   */
  public record Timing(int proposalTimeout, int maxBackoff, int catchUp) {
    public Timing {
      if (proposalTimeout < 1 || maxBackoff < 1 || catchUp < 1) {
        throw new IllegalArgumentException(
            "ticks must be positive: " + proposalTimeout + "/" + maxBackoff + "/" + catchUp);
      }
    }
  }

  private enum Phase {
    PREPARE,
    ACCEPT,
    BACKOFF
  }

  /** This node's attempt to decide {@code slot}. */
  private static final class Attempt {
    final long slot;
    RingConfig wanted;
    Ballot ballot = Ballot.ZERO;
    Phase phase = Phase.BACKOFF;
    RingConfig value;
    final Map<String, Promise> promises = new HashMap<>();
    final Set<String> accepted = new HashSet<>();
    long deadline;
    int tries;

    Attempt(long slot, RingConfig wanted) {
      this.slot = slot;
      this.wanted = wanted;
    }
  }

  private final RingMember self;
  private final Timing timing;
  private final Random random;

  // durable
  private long epoch;
  private RingConfig config;
  private Ballot promised;
  private Ballot acceptedBallot;
  private RingConfig acceptedValue;
  private boolean dirty;

  // volatile
  private long now;
  private long highestRound;
  private Attempt attempt;
  private final Map<String, RingMember> peers = new TreeMap<>();
  private Set<String> seenUp = Set.of();
  private long nextCatchUp;
  private long lastQueryTick = -1;
  private final Map<Long, Set<String>> fillsDone = new HashMap<>();
  private long localFillDone = -1;

  private final List<Outgoing> out = new ArrayList<>();
  private final List<Commit> commits = new ArrayList<>();
  private final List<String> conflicts = new ArrayList<>();
  private final List<Veto> vetoes = new ArrayList<>();
  private final Deque<RingMessage> loopback = new ArrayDeque<>();

  /** A node resuming from {@code restored} ({@link RingState#EMPTY} for a node with no state). */
  public RingAgreement(RingMember self, RingState restored, Timing timing, Random random) {
    this.self = Objects.requireNonNull(self);
    this.timing = timing;
    this.random = random;
    this.epoch = restored.epoch();
    this.config = restored.config();
    this.promised = restored.promised();
    this.acceptedBallot = restored.acceptedBallot();
    this.acceptedValue = restored.acceptedValue();
    this.highestRound = promised.round();
    this.nextCatchUp = 1 + random.nextInt(timing.catchUp());
  }

  public long epoch() {
    return epoch;
  }

  /** The latest committed configuration, null at epoch 0. */
  public RingConfig config() {
    return config;
  }

  public RingMember self() {
    return self;
  }

  /** The durable state as of now. */
  public RingState state() {
    return new RingState(epoch, config, promised, acceptedBallot, acceptedValue);
  }

  /** Whether this node is trying to decide the next epoch. */
  public boolean proposing() {
    return attempt != null;
  }

  /** The configuration this node is trying to get decided, or null. */
  public RingConfig proposal() {
    return attempt == null ? null : attempt.wanted;
  }

  /** Nodes that reported FillDone for the committed epoch (this node included). */
  public Set<String> fillsDone() {
    return Set.copyOf(fillsDone.getOrDefault(epoch, Set.of()));
  }

  // ---- local requests ----

  /**
   * Founds a new cluster: commits epoch 1 holding only this node. Does nothing unless this node has
   * no epoch at all; a node that has state, or that a cluster already knows, never founds.
   */
  public void found() {
    if (epoch == 0) {
      adopt(1, RingConfig.founding(self), true);
    }
  }

  /**
   * Tries to get {@code value} decided as the next epoch, retrying with higher ballots until the
   * slot is decided (by this value or another one; the caller then decides again on the new epoch).
   * While an attempt runs, a new value replaces the wanted one for the next ballot.
   */
  public void propose(RingConfig value) {
    if (epoch == 0) {
      return;
    }
    long slot = epoch + 1;
    if (attempt != null && attempt.slot == slot) {
      attempt.wanted = value;
      return;
    }
    attempt = new Attempt(slot, value);
    startPrepare();
    flushLoopback();
  }

  /** Stops trying to decide the next epoch (what was sent may still be decided). */
  public void withdraw() {
    attempt = null;
  }

  /**
   * Peers worth asking for later epochs (the members SWIM sees up), besides the configuration's.
   */
  public void setPeers(Collection<RingMember> known) {
    peers.clear();
    for (RingMember m : known) {
      if (!m.name().equals(self.name())) {
        peers.put(m.name(), m);
      }
    }
  }

  /**
   * The members SWIM shows up (ALIVE or SUSPECT) to this node. Its promises report those of them in
   * the configuration, and itself: a proposer never proposes removing a member that an acceptor of
   * its promise quorum sees up.
   */
  public void setSeenUp(Collection<String> names) {
    seenUp = Set.copyOf(names);
  }

  /**
   * Someone (a fenced replica answer, say) showed that {@code seen} is committed: if it is later
   * than this node's epoch, ask {@code from} (or a random peer when null) for it now.
   */
  public void observed(long seen, RingMember from) {
    if (seen > epoch) {
      RingMember target = from != null && !from.name().equals(self.name()) ? from : randomPeer();
      if (target != null) {
        query(target, true);
      }
    }
  }

  /**
   * This node holds every range it gains in {@code filledEpoch}'s transition: recorded, and told to
   * every member now and again each catch-up period while that epoch is the latest.
   */
  public void reportFillDone(long filledEpoch) {
    if (filledEpoch != epoch || config == null || !config.inTransition()) {
      return;
    }
    localFillDone = filledEpoch;
    fillsDone.computeIfAbsent(epoch, e -> new TreeSet<>()).add(self.name());
    broadcastFillDone();
  }

  // ---- time ----

  /** One logical tick: proposal timeouts and retries, periodic catch-up, FillDone resends. */
  public void tick() {
    now++;
    if (attempt != null) {
      if (attempt.phase == Phase.BACKOFF && now >= attempt.deadline) {
        startPrepare();
      } else if (attempt.phase != Phase.BACKOFF && now >= attempt.deadline) {
        backOff();
      }
    }
    if (now >= nextCatchUp) {
      nextCatchUp = now + timing.catchUp();
      RingMember target = randomPeer();
      if (target != null) {
        query(target, false);
      }
      if (localFillDone == epoch && config != null && config.inTransition()) {
        broadcastFillDone();
      }
    }
    flushLoopback();
  }

  // ---- messages ----

  public void receive(RingMessage message) {
    handle(message);
    flushLoopback();
  }

  private void handle(RingMessage message) {
    if (message instanceof Prepare p) {
      onPrepare(p);
    } else if (message instanceof Accept a) {
      onAccept(a);
    } else if (message instanceof Promise p) {
      onPromise(p);
    } else if (message instanceof Accepted a) {
      onAccepted(a);
    } else if (message instanceof Nack n) {
      onNack(n);
    } else if (message instanceof Committed c) {
      learn(c.from(), c.epoch(), c.config());
    } else if (message instanceof EpochState s) {
      learn(s.from(), s.epoch(), s.config());
    } else if (message instanceof EpochQuery q) {
      onQuery(q);
    } else if (message instanceof FillDone f) {
      onFillDone(f);
    }
  }

  /**
   * Whether this node may vote on {@code slot} from {@code from}: answers the sender with this
   * node's configuration when the slot is already decided here, or asks to be caught up when this
   * node is behind.
   */
  private boolean mayVote(RingMember from, long slot) {
    if (slot <= epoch) {
      if (config != null) {
        send(from, new EpochState(self, epoch, config));
      }
      return false;
    }
    if (slot > epoch + 1) {
      query(from, false);
      return false;
    }
    return config != null && config.contains(self.name());
  }

  private void onPrepare(Prepare p) {
    noteRound(p.ballot());
    if (!mayVote(p.from(), p.slot())) {
      return;
    }
    if (p.ballot().compareTo(promised) >= 0) {
      if (p.ballot().above(promised)) {
        promised = p.ballot();
        dirty = true;
      }
      send(
          p.from(),
          new Promise(self, p.slot(), p.ballot(), acceptedBallot, acceptedValue, upReport()));
    } else {
      send(p.from(), new Nack(self, p.slot(), p.ballot(), promised));
    }
  }

  private void onAccept(Accept a) {
    noteRound(a.ballot());
    if (!mayVote(a.from(), a.slot())) {
      return;
    }
    if (removesSelf(a.value())) {
      // as if lost: only the proposer's retries and withdrawal follow, never a decision
      return;
    }
    if (a.ballot().compareTo(promised) >= 0) {
      if (!a.ballot().equals(promised) || !a.ballot().equals(acceptedBallot)) {
        promised = a.ballot();
        acceptedBallot = a.ballot();
        acceptedValue = a.value();
        dirty = true;
      }
      send(a.from(), new Accepted(self, a.slot(), a.ballot()));
    } else {
      send(a.from(), new Nack(self, a.slot(), a.ballot(), promised));
    }
  }

  /**
   * A member never accepts a configuration that drops it from {@code next} unless it was retired
   * (decommissioned, or force-removed by an operator). Removing a live node needs no vote of its
   * own: it is proposed because the node is down, and then it does not vote. But a node that was
   * only cut off (a 2|2 split healing) would otherwise help a removal of itself to a majority. The
   * rule depends only on the value and on who votes, so a value it refuses is never chosen with its
   * help, and every proposer can tell which acceptors refuse a value ({@link #choosable}).
   */
  private boolean removesSelf(RingConfig value) {
    return value != null && config != null && refuses(self.name(), value);
  }

  /** Whether acceptor {@code name} of the committed configuration never accepts {@code value}. */
  private boolean refuses(String name, RingConfig value) {
    return config.nextNames().contains(name)
        && !value.nextNames().contains(name)
        && !value.retired().containsKey(name);
  }

  /**
   * Whether enough acceptors would ever accept {@code value} to choose it. A value that too many of
   * them refuse for good ({@link #refuses}) was never chosen at any ballot, so a proposer that
   * finds it among its promises is free to propose its own: re-proposing it would block the slot
   * forever.
   */
  private boolean choosable(RingConfig value) {
    int willing = 0;
    for (String name : config.memberNames()) {
      if (!refuses(name, value)) {
        willing++;
      }
    }
    return willing >= config.quorum();
  }

  /** The configuration's members this node sees up, itself included: sent with each promise. */
  private Set<String> upReport() {
    Set<String> up = new TreeSet<>();
    up.add(self.name());
    for (String name : seenUp) {
      if (config.contains(name)) {
        up.add(name);
      }
    }
    return up;
  }

  /**
   * Members {@code value} drops from {@code next} without retiring them that some promiser reports
   * up, each with who reported it. Removals are proposed because SWIM shows a member down for the
   * removal delay on the proposer; when a partition heals, the proposer may still hold a member
   * DEAD that others (the member itself, or its side of the split) already see up.
   */
  private static Map<String, Set<String>> removalsSeenUp(
      RingConfig config, RingConfig value, Collection<Promise> promises) {
    Map<String, Set<String>> out = new TreeMap<>();
    for (String name : config.nextNames()) {
      if (value.nextNames().contains(name) || value.retired().containsKey(name)) {
        continue;
      }
      for (Promise promise : promises) {
        if (promise.up().contains(name)) {
          out.computeIfAbsent(name, n -> new TreeSet<>()).add(promise.from().name());
        }
      }
    }
    return out;
  }

  private boolean answersCurrentAttempt(long slot, Ballot ballot, Phase phase) {
    return attempt != null
        && attempt.slot == slot
        && attempt.phase == phase
        && attempt.ballot.equals(ballot)
        && slot == epoch + 1;
  }

  private void onPromise(Promise p) {
    noteRound(p.acceptedBallot());
    if (!answersCurrentAttempt(p.slot(), p.ballot(), Phase.PREPARE)
        || !config.contains(p.from().name())) {
      return;
    }
    attempt.promises.put(p.from().name(), p);
    if (attempt.promises.size() < config.quorum()) {
      return;
    }
    // a value some acceptor of a majority accepted may have been decided: it must be proposed
    // again, unless too many acceptors refuse it for it ever to have been decided
    Promise highest = null;
    for (Promise promise : attempt.promises.values()) {
      if (promise.acceptedValue() != null
          && (highest == null || promise.acceptedBallot().above(highest.acceptedBallot()))) {
        highest = promise;
      }
    }
    if (highest != null && choosable(highest.acceptedValue())) {
      attempt.value = highest.acceptedValue();
    } else {
      Map<String, Set<String>> up =
          removalsSeenUp(config, attempt.wanted, attempt.promises.values());
      if (!up.isEmpty()) {
        // nothing was accepted at this ballot: withdrawing is as if every Accept had been lost
        vetoes.add(new Veto(attempt.slot, attempt.wanted, up));
        attempt = null;
        return;
      }
      attempt.value = attempt.wanted;
    }
    attempt.phase = Phase.ACCEPT;
    attempt.deadline = now + timing.proposalTimeout();
    for (RingMember acceptor : config.allMembers()) {
      send(acceptor, new Accept(self, attempt.slot, attempt.ballot, attempt.value));
    }
  }

  private void onAccepted(Accepted a) {
    if (!answersCurrentAttempt(a.slot(), a.ballot(), Phase.ACCEPT)
        || !config.contains(a.from().name())) {
      return;
    }
    attempt.accepted.add(a.from().name());
    if (attempt.accepted.size() < config.quorum()) {
      return;
    }
    long slot = attempt.slot;
    RingConfig decided = attempt.value;
    Set<String> told = new HashSet<>();
    List<RingMember> audience = new ArrayList<>(config.allMembers());
    audience.addAll(decided.allMembers());
    adopt(slot, decided, true);
    for (RingMember member : audience) {
      if (told.add(member.name())) {
        send(member, new Committed(self, slot, decided));
      }
    }
  }

  private void onNack(Nack n) {
    noteRound(n.promised());
    if (attempt == null
        || attempt.slot != n.slot()
        || !attempt.ballot.equals(n.ballot())
        || attempt.phase == Phase.BACKOFF) {
      return;
    }
    backOff();
  }

  private void onQuery(EpochQuery q) {
    if (q.epoch() < epoch && config != null) {
      send(q.from(), new EpochState(self, epoch, config));
    } else if (q.epoch() > epoch) {
      query(q.from(), false);
    }
  }

  private void onFillDone(FillDone f) {
    if (f.epoch() > epoch) {
      query(f.from(), false);
    }
    if (f.epoch() >= epoch) {
      fillsDone.computeIfAbsent(f.epoch(), e -> new TreeSet<>()).add(f.node());
    }
  }

  /** A committed configuration heard of: taken if later than ours; checked if the same epoch. */
  private void learn(RingMember from, long e, RingConfig value) {
    if (e > epoch) {
      adopt(e, value, false);
    } else if (e == epoch && config != null && !config.equals(value)) {
      conflicts.add(
          "epoch "
              + e
              + " committed here as "
              + config
              + " but "
              + from.name()
              + " committed "
              + value);
    }
  }

  private void adopt(long e, RingConfig value, boolean proposedHere) {
    epoch = e;
    config = value;
    promised = Ballot.ZERO;
    acceptedBallot = Ballot.ZERO;
    acceptedValue = null;
    dirty = true;
    commits.add(new Commit(e, value, proposedHere));
    fillsDone.keySet().removeIf(reported -> reported < e);
    if (attempt != null && attempt.slot <= e) {
      attempt = null;
    }
  }

  // ---- proposer ----

  private void startPrepare() {
    if (attempt.slot != epoch + 1 || config == null) {
      attempt = null;
      return;
    }
    highestRound++;
    attempt.ballot = new Ballot(highestRound, self.name());
    attempt.phase = Phase.PREPARE;
    attempt.promises.clear();
    attempt.accepted.clear();
    attempt.value = null;
    attempt.tries++;
    attempt.deadline = now + timing.proposalTimeout();
    for (RingMember acceptor : config.allMembers()) {
      send(acceptor, new Prepare(self, attempt.slot, attempt.ballot));
    }
  }

  /** Gives up the current ballot; a later one starts after a random backoff, growing with tries. */
  private void backOff() {
    attempt.phase = Phase.BACKOFF;
    int bound = timing.maxBackoff() * Math.min(attempt.tries, 4);
    attempt.deadline = now + 1 + random.nextInt(Math.max(1, bound));
  }

  private void noteRound(Ballot ballot) {
    if (ballot != null && ballot.round() > highestRound) {
      highestRound = ballot.round();
    }
  }

  // ---- sending ----

  private void send(RingMember to, RingMessage message) {
    if (to.name().equals(self.name())) {
      loopback.add(message);
    } else {
      out.add(new Outgoing(to, message));
    }
  }

  /** Asks {@code target} for later epochs; at most once per tick unless {@code urgent}. */
  private void query(RingMember target, boolean urgent) {
    if (!urgent && lastQueryTick == now) {
      return;
    }
    lastQueryTick = now;
    send(target, new EpochQuery(self, epoch));
  }

  private void broadcastFillDone() {
    for (RingMember member : config.allMembers()) {
      send(member, new FillDone(self, epoch, self.name()));
    }
  }

  private RingMember randomPeer() {
    Map<String, RingMember> candidates = new TreeMap<>(peers);
    if (config != null) {
      for (RingMember m : config.allMembers()) {
        candidates.putIfAbsent(m.name(), m);
      }
    }
    candidates.remove(self.name());
    if (candidates.isEmpty()) {
      return null;
    }
    List<RingMember> list = new ArrayList<>(candidates.values());
    return list.get(random.nextInt(list.size()));
  }

  private void flushLoopback() {
    RingMessage next;
    while ((next = loopback.poll()) != null) {
      handle(next);
    }
  }

  /** Everything produced since the last drain; see {@link Ready}. */
  public Ready drain() {
    Ready ready =
        new Ready(
            List.copyOf(out),
            dirty ? state() : null,
            List.copyOf(commits),
            List.copyOf(conflicts),
            List.copyOf(vetoes));
    out.clear();
    commits.clear();
    conflicts.clear();
    vetoes.clear();
    dirty = false;
    return ready;
  }
}
