package dhtnode.membership;

import dhtnode.common.HostPort;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

// Why this file stays long (about 960 lines): it is the whole SWIM core as one deterministic
// state machine, in the etcd-raft manner (docs STYLE.md): probing, indirect probes, suspicion,
// refutation, joins, leaves and gossip all update the same member table, gossip buffer and probe
// schedule within one protocol period, and the simulator drives exactly this class. Its pure
// parts already live apart (MemberTable, GossipBuffer, ProbeOrder, WireCodec); cutting the rest
// by message type would spread one period's invariants across files that must change together.
/**
 * The SWIM protocol of one node as a plain, single-threaded state machine (Das, Gupta, Motivala
 * 2002; see docs/membership.md). It owns the member table, the gossip buffer and the probe
 * schedule, and does nothing by itself: it is driven by {@link #onTimer} and {@link #onDatagram}
 * (and {@link #leave}), and acts only through its {@link Effects}: send a datagram, start or cancel
 * a timer, publish a {@link MemberEvent}, log. Time comes from an injected clock and randomness
 * from an injected {@link Random}, so the same inputs give the same outputs: the {@link
 * MembershipActor} runs it over Akka timers and UDP, a simulator over virtual time.
 *
 * <p>Each protocol period it concludes the previous probe (no ACK directly or through K helpers:
 * SUSPECT) and probes the next member in randomized round-robin order. A suspect that does not
 * refute in time is declared DEAD. Every change is gossiped, logged as one INFO line and published.
 */
public final class SwimProtocol {

  /** What the protocol asks of its host. Called synchronously from the driving methods. */
  public interface Effects {
    /** Send one datagram. */
    void send(InetSocketAddress to, byte[] datagram);

    /**
     * Start (or restart) the single-shot timer {@code key}: deliver {@code timer} after {@code
     * delay}.
     */
    void startTimer(Object key, Timer timer, Duration delay);

    /** Cancel timer {@code key}; a cancelled timer is never delivered. */
    void cancelTimer(Object key);

    void publish(MemberEvent event);

    void info(String line);

    void warn(String line);

    /** A per-datagram detail; built only when debug logging is on. */
    void debug(Supplier<String> line);

    // ---- measurements, for /metrics; no-ops by default ----

    default void probeStarted() {}

    default void suspicionStarted() {}

    default void deathDeclared() {}

    /**
     * A probe this node ran ended (at the next period's start, or when it was dropped by a pause).
     */
    default void probeConcluded(ProbeOutcome outcome) {}

    /** A direct ACK arrived {@code nanos} after its PING was sent. */
    default void probeRoundTrip(long nanos) {}

    /** A protocol-period tick ran {@code nanos} later than it was due (0 when on time). */
    default void tickLateness(long nanos) {}

    /** This node refuted a claim that it is SUSPECT, DEAD or LEFT. */
    default void refuted() {}
  }

  /** How a probe ended. */
  public enum ProbeOutcome {
    /** The target answered the PING. */
    ACKED_DIRECT,
    /** No direct ACK in time, but a helper relayed one. */
    ACKED_INDIRECT,
    /** Neither: the target is now suspected. */
    FAILED
  }

  /** The timers this protocol starts; the host hands each back to {@link #onTimer} when due. */
  public sealed interface Timer {}

  /** Start of a protocol period. */
  public enum Tick implements Timer {
    INSTANCE
  }

  /** Time to send JOIN (again). */
  public enum JoinTick implements Timer {
    INSTANCE
  }

  /** No direct ACK for probe {@code seq} yet: ask helpers. */
  public record PingTimeout(long seq) implements Timer {}

  /** {@code name} has been SUSPECT at {@code incarnation} for {@code after}. */
  public record SuspicionTimeout(String name, long incarnation, Duration after) implements Timer {}

  /** Time to send pending gossip to a few members. */
  public enum GossipTick implements Timer {
    INSTANCE
  }

  /** Time for push-pull anti-entropy with one random member. */
  public enum SyncTick implements Timer {
    INSTANCE
  }

  /** As a PING_REQ helper, no ACK from the target of relay {@code seq} yet: send a NACK. */
  public record NackTimeout(long seq) implements Timer {}

  private record SuspicionKey(String name) {}

  private record NackKey(long seq) {}

  static final Object TICK_TIMER = "tick";
  static final Object JOIN_TIMER = "join";
  static final Object PING_TIMER = "ping";
  static final Object GOSSIP_TIMER = "gossip";
  static final Object SYNC_TIMER = "sync";

  /** Members told directly that this node leaves; the rest hear it by gossip. */
  private static final int LEAVE_FANOUT = 8;

  private record Probe(
      long seq, String target, long sentNanos, int helpers, int nacks, ProbeOutcome outcome) {
    Probe acked(ProbeOutcome how) {
      return new Probe(seq, target, sentNanos, helpers, nacks, how);
    }

    Probe withHelpers(int n) {
      return new Probe(seq, target, sentNanos, n, nacks, outcome);
    }

    Probe nacked() {
      return new Probe(seq, target, sentNanos, helpers, nacks + 1, outcome);
    }

    boolean isAcked() {
      return outcome != null;
    }
  }

  /** A probe this node runs for another member's PING_REQ. */
  private record Relay(
      InetSocketAddress requester, long requesterSeq, String target, long period) {}

  private final MembershipSettings settings;
  private final Effects effects;
  private final Random random;
  private final LongSupplier nanoClock;
  private final String selfName;
  private final String clusterName;
  private final List<InetSocketAddress> seeds;

  /** The seed each recent JOIN went to, by its seq: a reply or refusal names the seed's member. */
  private final Map<Long, InetSocketAddress> joinsSent = new HashMap<>();

  /**
   * The member that answered a JOIN sent to each seed: a seed given by host name is up when that
   * member is, whatever address the name resolved to.
   */
  private final Map<InetSocketAddress, String> seedMembers = new HashMap<>();

  /** Joiners of other clusters refused, and seeds of other clusters that refused this node. */
  private final Set<String> otherClustersLogged = new HashSet<>();

  private final MemberTable table;
  private final GossipBuffer gossip = new GossipBuffer();
  private final ProbeOrder probeOrder;
  private final Map<Long, Relay> relays = new HashMap<>();

  /** Running suspicions, by member name (Lifeguard's dogpile: accusers shorten the timeout). */
  private final Map<String, Suspicion> suspicions = new HashMap<>();

  /** Members that went DEAD or LEFT, and when: gossip still reaches them for gossip-to-the-dead. */
  private final Map<String, Long> recentlyDown = new HashMap<>();

  private final long retentionPeriods;

  private long period;
  private long nextSeq = 1;
  private boolean started;
  private boolean joined;
  private long lastTickNanos;

  /** When the pending protocol-period tick is due, for the tick-lateness measurement. */
  private long tickDueNanos;

  /** Incarnation of the newest DEAD or LEFT claim about this node already reported. */
  private long exclusionReported = Long.MIN_VALUE;

  private boolean leaving;
  private Probe probe;

  /**
   * Lifeguard's local health multiplier, 0 (healthy) up to max-local-health - 1: failed probes
   * without nacks and refutations raise it, answered probes lower it; the protocol period and ping
   * timeout are stretched by (1 + health), so a node that is itself slow probes less and accuses
   * less instead of accusing healthy peers.
   */
  private int health;

  /** One running suspicion of {@code incarnation}: who accused it, and since when. */
  private static final class Suspicion {
    final long incarnation;
    final long startNanos;
    final Set<String> accusers = new HashSet<>();
    Duration timeout;

    Suspicion(long incarnation, long startNanos) {
      this.incarnation = incarnation;
      this.startNanos = startNanos;
    }

    int confirmations() {
      return Math.max(0, accusers.size() - 1);
    }
  }

  /**
   * A node that has not started yet: {@link #start} arms its timers and sends its first JOINs.
   * {@code incarnation} is where this node's own incarnation starts; {@code nanoClock} is a
   * monotonic clock in nanoseconds.
   */
  public SwimProtocol(
      LocalNode node,
      long incarnation,
      MembershipSettings settings,
      Random random,
      LongSupplier nanoClock,
      Effects effects) {
    this.settings = settings;
    this.effects = effects;
    this.random = random;
    this.nanoClock = nanoClock;
    this.selfName = node.name();
    this.clusterName = node.clusterName();
    this.probeOrder = new ProbeOrder(random);
    this.table =
        new MemberTable(
            new Member(
                node.name(),
                node.host(),
                node.clusterPort(),
                node.httpPort(),
                MemberStatus.ALIVE,
                incarnation),
            nanoClock);
    this.retentionPeriods =
        Math.max(1, settings.deadMemberRetention.toNanos() / settings.protocolPeriod.toNanos());
    this.seeds = node.otherSeeds();
  }

  /** Arms the protocol-period timer and, unless this node founds the cluster, starts joining. */
  public void start() {
    if (started) {
      return;
    }
    started = true;
    lastTickNanos = nanoClock.getAsLong();
    tickDueNanos = lastTickNanos + settings.protocolPeriod.toNanos();
    effects.startTimer(TICK_TIMER, Tick.INSTANCE, settings.protocolPeriod);
    if (seeds.isEmpty()) {
      // only this node among the seeds: it starts a new cluster (and accepts joins)
      joined = true;
      info(
          "starting a new cluster as "
              + selfName
              + " at incarnation "
              + table.self().incarnation());
    } else {
      info("joining through seeds " + seeds);
      sendJoins(seeds);
      effects.startTimer(JOIN_TIMER, JoinTick.INSTANCE, settings.joinRetryInterval);
    }
    effects.startTimer(GOSSIP_TIMER, GossipTick.INSTANCE, settings.gossipInterval);
    effects.startTimer(
        SYNC_TIMER, SyncTick.INSTANCE, jitter(settings.pushPullInterval(table.upCount())));
  }

  // ---- queries -------------------------------------------------------------------------------

  public String selfName() {
    return selfName;
  }

  public Member self() {
    return table.self();
  }

  /** Every remembered member, this node and DEAD/LEFT ones included, ordered by name. */
  public List<Member> members() {
    return table.all();
  }

  public Optional<Member> member(String name) {
    return table.get(name);
  }

  public boolean isJoined() {
    return joined;
  }

  public boolean isLeaving() {
    return leaving;
  }

  public long period() {
    return period;
  }

  /** Lifeguard's local health multiplier: 0 is healthy; periods are stretched by 1 + this. */
  public int localHealth() {
    return health;
  }

  /** Accusers of a running suspicion of {@code name}, or empty when it is not suspected here. */
  public Set<String> accusers(String name) {
    Suspicion s = suspicions.get(name);
    return s == null ? Set.of() : Set.copyOf(s.accusers);
  }

  /**
   * When, on this protocol's clock, {@code name} entered its current status, or null when it is not
   * known. A refuted suspicion counts as a new entry into ALIVE.
   */
  public Long statusSinceNanos(String name) {
    return table.statusSinceNanos(name);
  }

  /** How long the running suspicion of {@code name} lasts in all, or null when there is none. */
  public Duration suspicionTimeoutOf(String name) {
    Suspicion s = suspicions.get(name);
    return s == null ? null : s.timeout;
  }

  // ---- driving -------------------------------------------------------------------------------

  public void onTimer(Timer timer) {
    if (leaving) {
      return;
    }
    if (timer instanceof Tick) {
      onTick();
    } else if (timer instanceof JoinTick) {
      onJoinTick();
    } else if (timer instanceof PingTimeout timeout) {
      onPingTimeout(timeout);
    } else if (timer instanceof SuspicionTimeout timeout) {
      onSuspicionTimeout(timeout);
    } else if (timer instanceof GossipTick) {
      onGossipTick();
    } else if (timer instanceof SyncTick) {
      onSyncTick();
    } else if (timer instanceof NackTimeout timeout) {
      onNackTimeout(timeout);
    }
  }

  // ---- protocol period -------------------------------------------------------------------

  private void onTick() {
    long now = nanoClock.getAsLong();
    effects.tickLateness(Math.max(0, now - tickDueNanos));
    period++;
    noticePause();
    concludeProbe();
    // the period is stretched by local health, judged after this probe's outcome
    Duration next = scaled(settings.protocolPeriod);
    tickDueNanos = now + next.toNanos();
    effects.startTimer(TICK_TIMER, Tick.INSTANCE, next);
    relays.values().removeIf(r -> r.period() < period - 1);
    for (Member forgotten : table.purge(period - retentionPeriods)) {
      debug(() -> "forgetting " + forgotten.name() + " (" + forgotten.status() + ")");
    }
    startProbe();
  }

  /**
   * A tick far later than its period means this node itself was stalled (SIGSTOP, a long GC, a
   * frozen VM). Past the suspicion timeout the others have likely declared it DEAD; and the probe
   * in flight timed out through this node's own silence, so its target is not suspected.
   */
  private void noticePause() {
    long now = nanoClock.getAsLong();
    long gap = now - lastTickNanos;
    lastTickNanos = now;
    long away = suspicionTimeout().plus(scaled(settings.protocolPeriod)).toNanos();
    if (gap > away && table.upCount() > 1) {
      info(
          selfName
              + " was unresponsive for "
              + gap / 1_000_000
              + " ms, longer than its suspicion timeout: the cluster may have declared it dead");
      effects.publish(new MemberEvent.SelfAway(table.self(), gap / 1_000_000));
      probe = null;
    }
  }

  private void concludeProbe() {
    if (probe == null) {
      return;
    }
    Probe finished = probe;
    probe = null;
    effects.cancelTimer(PING_TIMER);
    effects.probeConcluded(finished.isAcked() ? finished.outcome() : ProbeOutcome.FAILED);
    if (finished.isAcked()) {
      adjustHealth(-1);
      return;
    }
    // Lifeguard: a helper's NACK shows this node can reach others, so the missing ACK is the
    // target's fault; each helper that did not even NACK hints that the fault is this node's.
    adjustHealth(finished.helpers() == 0 ? 1 : finished.helpers() - finished.nacks());
    String reason =
        finished.helpers() == 0
            ? "no ack, no helper to ask"
            : "no ack direct or via "
                + finished.helpers()
                + (finished.helpers() == 1 ? " helper" : " helpers");
    Optional<Member> target = table.get(finished.target());
    if (target.isPresent() && target.get().status() == MemberStatus.SUSPECT) {
      // already suspected (by others): this failed probe is an independent confirmation
      confirm(target.get(), selfName);
    } else {
      handle(table.suspect(finished.target(), period), selfName, reason, selfName, false);
    }
  }

  private void startProbe() {
    Optional<Member> target = nextProbeTarget();
    if (target.isEmpty()) {
      return;
    }
    Member member = target.get();
    long seq = nextSeq++;
    probe = new Probe(seq, member.name(), nanoClock.getAsLong(), 0, 0, null);
    effects.probeStarted();
    // scheduled before sending, so whoever sees the PING knows the timeout is armed
    effects.startTimer(PING_TIMER, new PingTimeout(seq), scaled(settings.pingTimeout));
    send(
        address(member),
        member.name(),
        (g, a) -> new SwimMessage.Ping(table.self(), seq, member.name(), g, a));
  }

  private Optional<Member> nextProbeTarget() {
    for (int i = probeOrder.size(); i > 0; i--) {
      Optional<String> name = probeOrder.next();
      if (name.isEmpty()) {
        return Optional.empty();
      }
      Optional<Member> member = table.get(name.get());
      if (member.isPresent() && member.get().isUp()) {
        return member;
      }
      probeOrder.remove(name.get());
    }
    return Optional.empty();
  }

  private void onPingTimeout(PingTimeout timeout) {
    if (probe == null || probe.seq() != timeout.seq() || probe.isAcked()) {
      return;
    }
    Optional<Member> target = table.get(probe.target());
    if (target.isEmpty()) {
      return;
    }
    List<Member> helpers = table.randomUpOthers(settings.indirectProbes, probe.target(), random);
    for (Member helper : helpers) {
      send(
          address(helper),
          helper.name(),
          (g, a) -> new SwimMessage.PingReq(table.self(), timeout.seq(), target.get(), g, a));
    }
    probe = probe.withHelpers(helpers.size());
    String name = probe.target();
    debug(() -> "no direct ack from " + name + ", asked " + helpers.size() + " helpers");
  }

  private void onSuspicionTimeout(SuspicionTimeout timeout) {
    Suspicion s = suspicions.get(timeout.name());
    int accusers = s == null ? 0 : s.accusers.size();
    String reason =
        "suspect for "
            + timeout.after().toMillis()
            + " ms, not refuted"
            + (accusers > 1 ? ", " + accusers + " accusers" : "");
    handle(
        table.confirmDead(timeout.name(), timeout.incarnation(), period),
        selfName,
        reason,
        null,
        false);
  }

  private Duration suspicionTimeout() {
    return settings.suspicionTimeout(table.upCount());
  }

  // ---- joining ---------------------------------------------------------------------------

  /**
   * Before joining: JOIN every seed. After: JOIN only the seeds not known to be up. Two sides of a
   * healed partition hold each other DEAD and never probe each other; a JOIN to a seed on the other
   * side makes it re-learn this node (and its reply makes this node refute), so the cluster merges
   * again. A seed that is up costs nothing; a dead one, one small datagram per interval.
   */
  private void onJoinTick() {
    effects.startTimer(JOIN_TIMER, JoinTick.INSTANCE, settings.joinRetryInterval);
    if (!joined) {
      sendJoins(seeds);
      return;
    }
    List<InetSocketAddress> unreachable = new ArrayList<>();
    for (InetSocketAddress seed : seeds) {
      String answered = seedMembers.get(seed);
      boolean up =
          table.isUpAt(seed.getHostString(), seed.getPort())
              || (seed.getAddress() != null
                  && table.isUpAt(seed.getAddress().getHostAddress(), seed.getPort()))
              || (answered != null && table.get(answered).map(Member::isUp).orElse(false));
      if (!up) {
        unreachable.add(seed);
      }
    }
    sendJoins(unreachable);
  }

  /**
   * JOINs each seed as it was given: an unresolved one (a host name) is looked up by the transport
   * at this very send, so a seed's name is followed to wherever it points now.
   */
  private void sendJoins(List<InetSocketAddress> to) {
    if (joinsSent.size() > 4 * seeds.size() + 16) {
      joinsSent.clear(); // only the last round's answers matter
    }
    for (InetSocketAddress seed : to) {
      long seq = nextSeq++;
      joinsSent.put(seq, seed);
      send(seed, null, (g, a) -> new SwimMessage.Join(table.self(), seq, clusterName, g, a));
    }
  }

  // ---- datagrams -------------------------------------------------------------------------

  /** One datagram received from {@code from}. Malformed ones are dropped with a DEBUG line. */
  public void onDatagram(InetSocketAddress from, byte[] payload) {
    if (leaving) {
      return;
    }
    SwimMessage message;
    try {
      message = WireCodec.decode(payload);
    } catch (WireCodec.MalformedDatagramException e) {
      debug(() -> "dropping datagram from " + from + ": " + e.getMessage());
      return;
    } catch (RuntimeException e) {
      debug(() -> "dropping undecodable datagram from " + from + ": " + e);
      return;
    }
    String sender = message.from().name();
    if (sender.equals(selfName)) {
      debug(() -> "dropping datagram from " + from + " that claims to be this node");
      return;
    }
    // before anything of the message is applied: a node of another cluster must not get into
    // this table, nor its gossip, nor this node into its
    if (message instanceof SwimMessage.Join join && !join.cluster().equals(clusterName)) {
      refuseJoin(join, from);
      return;
    }
    if (message instanceof SwimMessage.JoinRefused refused) {
      onJoinRefused(refused, from);
      return;
    }
    debug(() -> message.getClass().getSimpleName() + " from " + sender + " at " + from);
    // the sender's own record is the freshest word on its liveness
    handle(table.apply(message.from(), period), sender, "said so itself", null, false);
    // a JOIN reply or push-pull list is the sender's whole table, not news: what is merely new
    // here is not gossiped on (the rest of the cluster knows it already)
    boolean bulk = message instanceof SwimMessage.JoinReply || message instanceof SwimMessage.Sync;
    List<Member> corrections = new ArrayList<>();
    String reason = "gossip from " + sender;
    for (Member update : message.gossip()) {
      noticeExclusion(update, sender);
      String accuser = message.accusers().get(update.name());
      MemberTable.Change change = table.apply(update, period);
      handle(change, sender, reason, accuser, bulk);
      if (isStale(update, change)) {
        corrections.add(change.current());
      }
      if (change.outcome() == MemberTable.Outcome.IGNORED
          && accuser != null
          && update.status() == MemberStatus.SUSPECT
          && change.current() != null
          && change.current().status() == MemberStatus.SUSPECT
          && change.current().incarnation() == update.incarnation()) {
        confirm(change.current(), accuser);
      }
    }
    if (!corrections.isEmpty() && !bulk) {
      // the sender still spreads older news than ours (it heard a suspicion after the
      // refutation had finished spreading, say): tell it at once, or its suspicion timer runs out
      // on a live member
      long seq = nextSeq++;
      send(
          from,
          sender,
          (g, a) -> new SwimMessage.Gossip(table.self(), seq, concat(corrections, g), a));
    }
    if (message instanceof SwimMessage.Ping ping) {
      onPing(ping, from);
    } else if (message instanceof SwimMessage.PingReq pingReq) {
      onPingReq(pingReq, from);
    } else if (message instanceof SwimMessage.Ack ack) {
      onAck(ack);
    } else if (message instanceof SwimMessage.Join join) {
      onJoin(join, from);
    } else if (message instanceof SwimMessage.JoinReply reply) {
      onJoinReply(reply);
    } else if (message instanceof SwimMessage.Nack nack) {
      onNack(nack);
    } else if (message instanceof SwimMessage.Sync sync) {
      onSync(sync, from);
    } // Gossip: nothing beyond its updates
  }

  private void onPing(SwimMessage.Ping ping, InetSocketAddress from) {
    if (!ping.target().equals(selfName)) {
      debug(() -> "ignoring ping for " + ping.target());
      return;
    }
    send(
        from,
        ping.from().name(),
        (g, a) -> new SwimMessage.Ack(table.self(), ping.seq(), selfName, g, a));
  }

  private void onPingReq(SwimMessage.PingReq request, InetSocketAddress from) {
    long seq = nextSeq++;
    Member target = request.target();
    relays.put(seq, new Relay(from, request.seq(), target.name(), period));
    // Lifeguard: if the target stays silent, tell the requester so before its period ends
    effects.startTimer(new NackKey(seq), new NackTimeout(seq), settings.pingTimeout);
    send(
        address(target),
        target.name(),
        (g, a) -> new SwimMessage.Ping(table.self(), seq, target.name(), g, a));
  }

  private void onNackTimeout(NackTimeout timeout) {
    Relay relay = relays.get(timeout.seq());
    if (relay != null) {
      send(
          relay.requester(),
          null,
          (g, a) -> new SwimMessage.Nack(table.self(), relay.requesterSeq(), relay.target(), g, a));
    }
  }

  private void onNack(SwimMessage.Nack nack) {
    if (probe != null && probe.seq() == nack.seq() && probe.target().equals(nack.subject())) {
      probe = probe.nacked();
    }
  }

  private void onAck(SwimMessage.Ack ack) {
    if (probe != null && probe.seq() == ack.seq() && probe.target().equals(ack.subject())) {
      if (!probe.isAcked()) {
        boolean direct = ack.from().name().equals(probe.target());
        if (direct) {
          effects.probeRoundTrip(nanoClock.getAsLong() - probe.sentNanos());
        }
        probe = probe.acked(direct ? ProbeOutcome.ACKED_DIRECT : ProbeOutcome.ACKED_INDIRECT);
      }
      effects.cancelTimer(PING_TIMER);
      return;
    }
    Relay relay = relays.remove(ack.seq());
    if (relay != null) {
      effects.cancelTimer(new NackKey(ack.seq()));
    }
    if (relay != null && relay.target().equals(ack.subject())) {
      send(
          relay.requester(),
          null,
          (g, a) -> new SwimMessage.Ack(table.self(), relay.requesterSeq(), ack.subject(), g, a));
    }
  }

  private void onJoin(SwimMessage.Join join, InetSocketAddress from) {
    sendState(from, members -> new SwimMessage.JoinReply(table.self(), join.seq(), members));
  }

  /**
   * Sends this node's whole member list to {@code to}, split into as many datagrams as it takes to
   * keep each within max-datagram-size. The parts are plain member records (no accusers), so a
   * JOIN_REPLY stays readable by version-1 nodes.
   */
  private void sendState(InetSocketAddress to, Function<List<Member>, SwimMessage> part) {
    List<Member> all = table.all();
    int room = settings.maxDatagramSize - WireCodec.encodedSize(part.apply(List.of()));
    List<Member> chunk = new ArrayList<>();
    int used = 0;
    int parts = 0;
    for (Member m : all) {
      // sized as version 2 writes it (a SUSPECT record takes one byte more there)
      int size = WireCodec.entrySize(m, null);
      if (used + size > room && !chunk.isEmpty()) {
        effects.send(to, WireCodec.encode(part.apply(List.copyOf(chunk))));
        parts++;
        chunk.clear();
        used = 0;
      }
      chunk.add(m);
      used += size;
    }
    effects.send(to, WireCodec.encode(part.apply(List.copyOf(chunk))));
    int total = parts + 1;
    debug(() -> "sent " + all.size() + " members to " + to + " in " + total + " parts");
  }

  // ---- push-pull anti-entropy ------------------------------------------------------------

  /**
   * Every push-pull interval (longer as the cluster grows), exchange whole member lists with one
   * random up member: a missed update, or the other side of a healed partition, is repaired even if
   * no gossip about it is left.
   */
  private void onSyncTick() {
    effects.startTimer(
        SYNC_TIMER, SyncTick.INSTANCE, jitter(settings.pushPullInterval(table.upCount())));
    if (!joined) {
      return;
    }
    List<Member> peer = table.randomUpOthers(1, null, random);
    if (peer.isEmpty()) {
      return;
    }
    long seq = nextSeq++;
    debug(() -> "push-pull with " + peer.get(0).name());
    sendState(
        address(peer.get(0)),
        members -> new SwimMessage.Sync(table.self(), seq, false, members, Map.of()));
  }

  private void onSync(SwimMessage.Sync sync, InetSocketAddress from) {
    if (!sync.reply() && sync.seq() != lastSyncAnswered.getOrDefault(from, Long.MIN_VALUE)) {
      // one answer per request, however many parts it came in
      lastSyncAnswered.put(from, sync.seq());
      if (lastSyncAnswered.size() > 64) {
        lastSyncAnswered.clear();
      }
      sendState(
          from, members -> new SwimMessage.Sync(table.self(), sync.seq(), true, members, Map.of()));
    }
  }

  /** A random duration in [d/2, 3d/2), so members do not push-pull in lockstep. */
  private Duration jitter(Duration d) {
    return Duration.ofNanos(d.toNanos() / 2 + (long) (random.nextDouble() * d.toNanos()));
  }

  // ---- gossip ----------------------------------------------------------------------------

  /**
   * Every gossip interval, if updates are pending, send them to gossip-nodes random members, the
   * recently dead included: news then spreads in a few hundred milliseconds rather than riding only
   * on the one or two probes per period, and a live member wrongly declared dead hears it.
   */
  private void onGossipTick() {
    effects.startTimer(GOSSIP_TIMER, GossipTick.INSTANCE, settings.gossipInterval);
    if (gossip.size() == 0 || settings.gossipNodes == 0) {
      return;
    }
    for (Member target : gossipTargets()) {
      long seq = nextSeq++;
      send(
          address(target),
          target.name(),
          (g, a) -> new SwimMessage.Gossip(table.self(), seq, g, a));
      if (gossip.size() == 0) {
        return;
      }
    }
  }

  private List<Member> gossipTargets() {
    long now = nanoClock.getAsLong();
    long horizon = settings.gossipToTheDead.toNanos();
    recentlyDown.values().removeIf(since -> now - since > horizon);
    List<Member> targets = table.randomUpOthers(settings.gossipNodes, null, random);
    if (!recentlyDown.isEmpty()) {
      // each slot goes to a recently-down member in proportion to their share of candidates
      int up = table.upCount() - 1;
      List<String> down = new ArrayList<>(recentlyDown.keySet());
      for (int i = 0; i < targets.size() || (targets.isEmpty() && i == 0); i++) {
        if (random.nextInt(up + down.size()) < down.size()) {
          Optional<Member> dead = table.get(down.get(random.nextInt(down.size())));
          if (dead.isPresent() && !targets.contains(dead.get())) {
            if (i < targets.size()) {
              targets.set(i, dead.get());
            } else {
              targets.add(dead.get());
            }
          }
        }
      }
    }
    return targets;
  }

  private final Map<InetSocketAddress, Long> lastSyncAnswered = new HashMap<>();

  /**
   * A node of another cluster asked to join: it is told so, and the first refusal of each such node
   * is one WARN line (a misconfigured seed list retries every join-retry-interval).
   */
  private void refuseJoin(SwimMessage.Join join, InetSocketAddress from) {
    String joiner = join.from().name();
    String line =
        "refused JOIN from "
            + joiner
            + " at "
            + from
            + ": it belongs to cluster \""
            + join.cluster()
            + "\", this node to \""
            + clusterName
            + "\" (dht.cluster.name)";
    if (firstTime("joiner " + joiner + " " + join.cluster())) {
      warn(line);
    } else {
      debug(() -> line);
    }
    effects.send(
        from, WireCodec.encode(new SwimMessage.JoinRefused(table.self(), join.seq(), clusterName)));
  }

  /**
   * A seed of another cluster refused this node. It keeps trying every seed (the others may be of
   * its cluster, or the seed's configuration may be fixed); the first refusal by each seed is one
   * WARN line.
   */
  private void onJoinRefused(SwimMessage.JoinRefused refused, InetSocketAddress from) {
    InetSocketAddress seed = joinsSent.get(refused.seq());
    if (seed == null) {
      debug(() -> "ignoring JOIN_REFUSED from " + from + " for a JOIN not sent");
      return;
    }
    String line =
        "seed "
            + seed
            + " ("
            + refused.from().name()
            + ") refused this node's JOIN: it belongs to cluster \""
            + refused.cluster()
            + "\", this node to \""
            + clusterName
            + "\"; check dht.cluster.name and dht.node.seeds (still trying every seed)";
    if (firstTime("seed " + seed + " " + refused.cluster())) {
      warn(line);
    } else {
      debug(() -> line);
    }
  }

  /** True the first time {@code what} is seen (a bounded memory: it forgets all past 64). */
  private boolean firstTime(String what) {
    if (otherClustersLogged.size() >= 64) {
      otherClustersLogged.clear();
    }
    return otherClustersLogged.add(what);
  }

  private void onJoinReply(SwimMessage.JoinReply reply) {
    InetSocketAddress seed = joinsSent.get(reply.seq());
    if (seed != null) {
      seedMembers.put(seed, reply.from().name());
    }
    if (!joined) {
      joined = true;
      info(
          "joined the cluster through "
              + reply.from().name()
              + " ("
              + table.all().size()
              + " members known)");
    }
  }

  // ---- leaving ---------------------------------------------------------------------------

  /**
   * Marks this node LEFT at its incarnation and sends PING carrying LEFT to up to 8 random up
   * members; the rest hear it by gossip. From then on this node refutes nothing and ignores timers
   * and datagrams. Returns the names told directly.
   */
  public List<String> leave() {
    if (leaving) {
      return List.of();
    }
    leaving = true;
    effects.cancelTimer(TICK_TIMER);
    effects.cancelTimer(JOIN_TIMER);
    effects.cancelTimer(PING_TIMER);
    effects.cancelTimer(GOSSIP_TIMER);
    effects.cancelTimer(SYNC_TIMER);
    suspicions.keySet().forEach(name -> effects.cancelTimer(new SuspicionKey(name)));
    suspicions.clear();
    relays.keySet().forEach(seq -> effects.cancelTimer(new NackKey(seq)));
    Member left = table.leave();
    gossip.add(left);
    List<Member> targets = table.randomUpOthers(LEAVE_FANOUT, null, random);
    for (Member target : targets) {
      long seq = nextSeq++;
      send(
          address(target),
          target.name(),
          (g, a) -> new SwimMessage.Ping(left, seq, target.name(), g, a));
    }
    List<String> names = targets.stream().map(Member::name).toList();
    info("leaving the cluster, LEFT sent to " + names);
    return names;
  }

  // ---- changes, events, gossip -------------------------------------------------------------

  /**
   * A DEAD or LEFT claim about this node means the others excluded it for a while, even when this
   * node already outranks the claim: it may have refuted a suspicion as it resumed from a pause,
   * while the others, not hearing it, declared it dead. Writes went elsewhere meanwhile, so
   * subscribers are told ({@link MemberEvent.SelfRefuted}), once per claim.
   */
  private void noticeExclusion(Member update, String by) {
    boolean aboutSelf = update.name().equals(selfName);
    boolean excluded = update.status() == MemberStatus.DEAD || update.status() == MemberStatus.LEFT;
    if (!aboutSelf
        || !excluded
        || update.incarnation() <= exclusionReported
        || table.self().status() == MemberStatus.LEFT) {
      return;
    }
    exclusionReported = update.incarnation();
    info(
        selfName
            + " hears it was "
            + update.status()
            + " at incarnation "
            + update.incarnation()
            + " (from "
            + by
            + "): it may have missed writes");
    effects.publish(new MemberEvent.SelfRefuted(table.self(), by, update.status()));
  }

  /**
   * Acts on one table change: gossip it on (unless it came in a whole-table {@code bulk} and is
   * merely new here), log it, publish it, and run the suspicion timers. {@code accuser} is who
   * raised a suspicion, when known.
   */
  private void handle(
      MemberTable.Change change, String by, String reason, String accuser, boolean bulk) {
    Member m = change.current();
    switch (change.outcome()) {
      case IGNORED -> {}
      case REFUTED -> {
        gossip.add(m);
        effects.refuted();
        // Lifeguard: being suspected hints that this node was slow to answer
        adjustHealth(1);
        info(
            selfName
                + " refutes being "
                + change.previous().status()
                + " at incarnation "
                + change.previous().incarnation()
                + " (heard from "
                + by
                + "): ALIVE at "
                + m.incarnation());
        if (change.previous().status() == MemberStatus.SUSPECT) {
          effects.publish(new MemberEvent.SelfRefuted(m, by, MemberStatus.SUSPECT));
        } // DEAD and LEFT claims were reported by noticeExclusion before the table refuted them
      }
      case JOINED -> {
        if (!bulk || m.status() != MemberStatus.ALIVE) {
          gossip.add(m, accuser);
        }
        recentlyDown.remove(m.name());
        probeOrder.add(m.name());
        info(m.name() + " joined, seen by " + by + " (incarnation " + m.incarnation() + ")");
        effects.publish(new MemberEvent.MemberJoined(m, by));
        if (m.status() == MemberStatus.SUSPECT) {
          suspected(m, by, reason, accuser, true);
        }
      }
      case SUSPECTED -> {
        gossip.add(m, accuser);
        suspected(m, by, reason, accuser, change.previous().status() != MemberStatus.SUSPECT);
      }
      case ALIVE_AGAIN -> {
        gossip.add(m);
        cancelSuspicion(m.name());
        info(
            m.name()
                + " refuted suspicion, alive again by "
                + by
                + " (incarnation "
                + m.incarnation()
                + ")");
        effects.publish(new MemberEvent.MemberAlive(m, by));
      }
      case DIED -> {
        down(m);
        info(m.name() + " declared dead by " + by + " (" + reason + ")");
        effects.deathDeclared();
        effects.publish(new MemberEvent.MemberDied(m, by, reason));
      }
      case LEFT -> {
        down(m);
        info(m.name() + " left, heard from " + by);
        effects.publish(new MemberEvent.MemberLeft(m, by));
      }
      case UPDATED, RECORDED_DOWN -> {
        if (!bulk || change.outcome() == MemberTable.Outcome.UPDATED) {
          gossip.add(m);
        }
        if (!m.isUp()) {
          probeOrder.remove(m.name());
        }
      }
    }
  }

  /** True when {@code update} is older news about another member than what this node holds. */
  private boolean isStale(Member update, MemberTable.Change change) {
    Member current = change.current();
    return change.outcome() == MemberTable.Outcome.IGNORED
        && current != null
        && !current.name().equals(selfName)
        && update.incarnation() < current.incarnation();
  }

  private static List<Member> concat(List<Member> first, List<Member> then) {
    List<Member> all = new ArrayList<>(first);
    all.addAll(then);
    return all;
  }

  /**
   * A suspicion starts (or restarts at a higher incarnation). Lifeguard's dogpile: with no
   * confirmation it lasts suspicion-max-multiplier times the suspicion timeout, and each
   * independent accuser shortens it ({@link #confirm}).
   */
  private void suspected(Member m, String by, String reason, String accuser, boolean newly) {
    Suspicion s = new Suspicion(m.incarnation(), nanoClock.getAsLong());
    if (accuser != null) {
      s.accusers.add(accuser);
    }
    suspicions.put(m.name(), s);
    armSuspicion(m.name(), s);
    if (newly) {
      info(m.name() + " suspected by " + by + " (" + reason + ")");
      effects.suspicionStarted();
      effects.publish(new MemberEvent.MemberSuspected(m, by, reason));
    }
  }

  /**
   * {@code accuser} also holds {@code m} (SUSPECT at the incarnation suspected here) failed. A new
   * accuser shortens the suspicion; if the shorter timeout has already passed, {@code m} is dead
   * now. The confirmation is gossiped on, so other members count it too.
   */
  private void confirm(Member m, String accuser) {
    Suspicion s = suspicions.get(m.name());
    if (s == null || s.incarnation != m.incarnation() || !s.accusers.add(accuser)) {
      return;
    }
    gossip.add(m, accuser);
    debug(
        () ->
            m.name()
                + " suspicion confirmed by "
                + accuser
                + " ("
                + s.accusers.size()
                + " accusers)");
    armSuspicion(m.name(), s);
  }

  private void armSuspicion(String name, Suspicion s) {
    s.timeout = settings.suspicionTimeout(table.upCount(), s.confirmations());
    long left = s.timeout.toNanos() - (nanoClock.getAsLong() - s.startNanos);
    SuspicionTimeout due = new SuspicionTimeout(name, s.incarnation, s.timeout);
    if (left <= 0) {
      effects.cancelTimer(new SuspicionKey(name));
      onSuspicionTimeout(due);
    } else {
      effects.startTimer(new SuspicionKey(name), due, Duration.ofNanos(left));
    }
  }

  private void cancelSuspicion(String name) {
    if (suspicions.remove(name) != null) {
      effects.cancelTimer(new SuspicionKey(name));
    }
  }

  private void down(Member m) {
    gossip.add(m);
    cancelSuspicion(m.name());
    probeOrder.remove(m.name());
    recentlyDown.put(m.name(), nanoClock.getAsLong());
  }

  private void adjustHealth(int delta) {
    health = Math.max(0, Math.min(settings.maxLocalHealth - 1, health + delta));
  }

  /** {@code d} stretched by Lifeguard's local health multiplier. */
  private Duration scaled(Duration d) {
    return d.multipliedBy(1 + health);
  }

  /** Builds a message from the gossip to piggyback and the accusers of SUSPECT records in it. */
  private interface Builder {
    SwimMessage build(List<Member> gossip, Map<String, String> accusers);
  }

  /**
   * Encodes a message and sends it, filling the room left under max-datagram-size with gossip. If
   * the table holds the recipient as SUSPECT, DEAD or LEFT, that record goes first: it is the "you
   * are suspected / dead" notice that makes a live recipient refute (Lifeguard's buddy system).
   */
  private void send(InetSocketAddress to, String recipient, Builder build) {
    List<Member> piggyback = new ArrayList<>();
    Map<String, String> accusers = new HashMap<>();
    if (recipient != null) {
      table
          .get(recipient)
          .filter(m -> m.status() != MemberStatus.ALIVE)
          .ifPresent(
              m -> {
                piggyback.add(m);
                Suspicion s = suspicions.get(m.name());
                if (m.status() == MemberStatus.SUSPECT && s != null && !s.accusers.isEmpty()) {
                  accusers.put(m.name(), s.accusers.iterator().next());
                }
              });
    }
    // sized as version 2, the larger of the two encodings
    int room =
        settings.maxDatagramSize
            - WireCodec.encodedSize(build.build(piggyback, Map.of("", "")))
            - (piggyback.isEmpty()
                ? 0
                : 1 + accusers.values().stream().mapToInt(a -> a.length() * 4).sum());
    int limit = settings.retransmitLimit(table.upCount());
    for (GossipBuffer.Item item :
        gossip.takeItems(
            Math.max(0, room),
            limit,
            i -> WireCodec.entrySize(i.update(), i.accuser() == null ? "" : i.accuser()))) {
      if (piggyback.size() == 1 && piggyback.get(0).name().equals(item.update().name())) {
        continue;
      }
      piggyback.add(item.update());
      if (item.accuser() != null && item.update().status() == MemberStatus.SUSPECT) {
        accusers.put(item.update().name(), item.accuser());
      }
    }
    effects.send(to, WireCodec.encode(build.build(List.copyOf(piggyback), accusers)));
  }

  /** A member's advertised address; a host name stays unresolved, for the transport to look up. */
  private static InetSocketAddress address(Member m) {
    return HostPort.socketAddress(m.host(), m.clusterPort());
  }

  private void info(String line) {
    effects.info(selfName + " p" + period + ": " + line);
  }

  private void warn(String line) {
    effects.warn(selfName + " p" + period + ": " + line);
  }

  private void debug(Supplier<String> line) {
    effects.debug(() -> selfName + " p" + period + ": " + line.get());
  }
}
