package dhtnode.membership;

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

/**
 * The SWIM protocol of one node as a plain, single-threaded state machine (Das, Gupta, Motivala
 * 2002; see docs/membership.md). It owns the member table, the gossip buffer and the probe
 * schedule, and does nothing by itself: it is driven by {@link #onTimer} and {@link #onDatagram}
 * (and {@link #leave}), and acts only through its {@link Effects}: send a datagram, start or
 * cancel a timer, publish a {@link MemberEvent}, log. Time comes from an injected clock and
 * randomness from an injected {@link Random}, so the same inputs give the same outputs: the
 * {@link MembershipActor} runs it over Akka timers and UDP, a simulator over virtual time.
 *
 * <p>Each protocol period it concludes the previous probe (no ACK directly or through K helpers:
 * SUSPECT) and probes the next member in randomized round-robin order. A suspect that does not
 * refute in time is declared DEAD. Every change is gossiped, logged as one INFO line and
 * published.
 */
public final class SwimProtocol {

  /** What the protocol asks of its host. Called synchronously from the driving methods. */
  public interface Effects {
    /** Send one datagram. */
    void send(InetSocketAddress to, byte[] datagram);

    /** Start (or restart) the single-shot timer {@code key}: deliver {@code timer} after {@code delay}. */
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

    /** A probe this node ran ended (at the next period's start, or when it was dropped by a pause). */
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
  public enum Tick implements Timer { INSTANCE }

  /** Time to send JOIN (again). */
  public enum JoinTick implements Timer { INSTANCE }

  /** No direct ACK for probe {@code seq} yet: ask helpers. */
  public record PingTimeout(long seq) implements Timer {}

  /** {@code name} has been SUSPECT at {@code incarnation} for {@code after}. */
  public record SuspicionTimeout(String name, long incarnation, Duration after) implements Timer {}

  private record SuspicionKey(String name) {}

  static final Object TICK_TIMER = "tick";
  static final Object JOIN_TIMER = "join";
  static final Object PING_TIMER = "ping";

  /** Members told directly that this node leaves; the rest hear it by gossip. */
  private static final int LEAVE_FANOUT = 8;

  private record Probe(long seq, String target, long sentNanos, int helpers, ProbeOutcome outcome) {
    Probe acked(ProbeOutcome how) {
      return new Probe(seq, target, sentNanos, helpers, how);
    }

    Probe withHelpers(int n) {
      return new Probe(seq, target, sentNanos, n, outcome);
    }

    boolean isAcked() {
      return outcome != null;
    }
  }

  /** A probe this node runs for another member's PING_REQ. */
  private record Relay(InetSocketAddress requester, long requesterSeq, String target, long period) {}

  private final MembershipSettings settings;
  private final Effects effects;
  private final Random random;
  private final LongSupplier nanoClock;
  private final String selfName;
  private final List<InetSocketAddress> seeds;
  private final MemberTable table;
  private final GossipBuffer gossip = new GossipBuffer();
  private final ProbeOrder probeOrder;
  private final Map<Long, Relay> relays = new HashMap<>();
  private final Set<Object> suspicionTimers = new HashSet<>();
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
    this.probeOrder = new ProbeOrder(random);
    this.table = new MemberTable(
        new Member(node.name(), node.host(), node.clusterPort(), node.httpPort(), MemberStatus.ALIVE, incarnation));
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
      info("starting a new cluster as " + selfName + " at incarnation " + table.self().incarnation());
    } else {
      info("joining through seeds " + seeds);
      sendJoins(seeds);
      effects.startTimer(JOIN_TIMER, JoinTick.INSTANCE, settings.joinRetryInterval);
    }
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
    }
  }

  // ---- protocol period -------------------------------------------------------------------

  private void onTick() {
    long now = nanoClock.getAsLong();
    effects.tickLateness(Math.max(0, now - tickDueNanos));
    tickDueNanos = now + settings.protocolPeriod.toNanos();
    effects.startTimer(TICK_TIMER, Tick.INSTANCE, settings.protocolPeriod);
    period++;
    noticePause();
    concludeProbe();
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
    long away = suspicionTimeout().plus(settings.protocolPeriod).toNanos();
    if (gap > away && table.upCount() > 1) {
      info(selfName + " was unresponsive for " + gap / 1_000_000
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
    if (!finished.isAcked()) {
      String reason = finished.helpers() == 0
          ? "no ack, no helper to ask"
          : "no ack direct or via " + finished.helpers() + (finished.helpers() == 1 ? " helper" : " helpers");
      handle(table.suspect(finished.target(), period), selfName, reason);
    }
  }

  private void startProbe() {
    Optional<Member> target = nextProbeTarget();
    if (target.isEmpty()) {
      return;
    }
    Member member = target.get();
    long seq = nextSeq++;
    probe = new Probe(seq, member.name(), nanoClock.getAsLong(), 0, null);
    effects.probeStarted();
    // scheduled before sending, so whoever sees the PING knows the timeout is armed
    effects.startTimer(PING_TIMER, new PingTimeout(seq), settings.pingTimeout);
    send(address(member), member.name(), g -> new SwimMessage.Ping(table.self(), seq, member.name(), g));
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
      send(address(helper), helper.name(),
          g -> new SwimMessage.PingReq(table.self(), timeout.seq(), target.get(), g));
    }
    probe = probe.withHelpers(helpers.size());
    String name = probe.target();
    debug(() -> "no direct ack from " + name + ", asked " + helpers.size() + " helpers");
  }

  private void onSuspicionTimeout(SuspicionTimeout timeout) {
    suspicionTimers.remove(new SuspicionKey(timeout.name()));
    String reason = "suspect for " + timeout.after().toMillis() + " ms, not refuted";
    handle(table.confirmDead(timeout.name(), timeout.incarnation(), period), selfName, reason);
  }

  private Duration suspicionTimeout() {
    return settings.suspicionTimeout(table.upCount());
  }

  // ---- joining ---------------------------------------------------------------------------

  /**
   * Before joining: JOIN every seed. After: JOIN only the seeds not known to be up. Two sides of a
   * healed partition hold each other DEAD and never probe each other; a JOIN to a seed on the
   * other side makes it re-learn this node (and its reply makes this node refute), so the cluster
   * merges again. A seed that is up costs nothing; a dead one, one small datagram per interval.
   */
  private void onJoinTick() {
    effects.startTimer(JOIN_TIMER, JoinTick.INSTANCE, settings.joinRetryInterval);
    if (!joined) {
      sendJoins(seeds);
      return;
    }
    List<InetSocketAddress> unreachable = new ArrayList<>();
    for (InetSocketAddress seed : seeds) {
      boolean up = table.isUpAt(seed.getHostString(), seed.getPort())
          || (seed.getAddress() != null && table.isUpAt(seed.getAddress().getHostAddress(), seed.getPort()));
      if (!up) {
        unreachable.add(seed);
      }
    }
    sendJoins(unreachable);
  }

  private void sendJoins(List<InetSocketAddress> to) {
    for (InetSocketAddress seed : to) {
      long seq = nextSeq++;
      send(seed, null, g -> new SwimMessage.Join(table.self(), seq, g));
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
    debug(() -> message.getClass().getSimpleName() + " from " + sender + " at " + from);
    // the sender's own record is the freshest word on its liveness
    handle(table.apply(message.from(), period), sender, "said so itself");
    for (Member update : message.gossip()) {
      noticeExclusion(update, sender);
      handle(table.apply(update, period), sender, "gossip from " + sender);
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
    }
  }

  private void onPing(SwimMessage.Ping ping, InetSocketAddress from) {
    if (!ping.target().equals(selfName)) {
      debug(() -> "ignoring ping for " + ping.target());
      return;
    }
    send(from, ping.from().name(), g -> new SwimMessage.Ack(table.self(), ping.seq(), selfName, g));
  }

  private void onPingReq(SwimMessage.PingReq request, InetSocketAddress from) {
    long seq = nextSeq++;
    Member target = request.target();
    relays.put(seq, new Relay(from, request.seq(), target.name(), period));
    send(address(target), target.name(), g -> new SwimMessage.Ping(table.self(), seq, target.name(), g));
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
    if (relay != null && relay.target().equals(ack.subject())) {
      send(relay.requester(), null, g -> new SwimMessage.Ack(table.self(), relay.requesterSeq(), ack.subject(), g));
    }
  }

  private void onJoin(SwimMessage.Join join, InetSocketAddress from) {
    // The reply carries the full list, so it is not held to max-datagram-size.
    effects.send(from, WireCodec.encode(new SwimMessage.JoinReply(table.self(), join.seq(), table.all())));
  }

  private void onJoinReply(SwimMessage.JoinReply reply) {
    if (!joined) {
      joined = true;
      info("joined the cluster through " + reply.from().name() + " (" + table.all().size() + " members known)");
    }
  }

  // ---- leaving ---------------------------------------------------------------------------

  /**
   * Marks this node LEFT at its incarnation and sends PING carrying LEFT to up to 8 random up
   * members; the rest hear it by gossip. From then on this node refutes nothing and ignores
   * timers and datagrams. Returns the names told directly.
   */
  public List<String> leave() {
    if (leaving) {
      return List.of();
    }
    leaving = true;
    effects.cancelTimer(TICK_TIMER);
    effects.cancelTimer(JOIN_TIMER);
    effects.cancelTimer(PING_TIMER);
    suspicionTimers.forEach(effects::cancelTimer);
    suspicionTimers.clear();
    Member left = table.leave();
    gossip.add(left);
    List<Member> targets = table.randomUpOthers(LEAVE_FANOUT, null, random);
    for (Member target : targets) {
      long seq = nextSeq++;
      send(address(target), target.name(), g -> new SwimMessage.Ping(left, seq, target.name(), g));
    }
    List<String> names = targets.stream().map(Member::name).toList();
    info("leaving the cluster, LEFT sent to " + names);
    return names;
  }

  // ---- changes, events, gossip -------------------------------------------------------------

  /**
   * A DEAD or LEFT claim about this node means the others excluded it for a while, even when
   * this node already outranks the claim: it may have refuted a suspicion as it resumed from a
   * pause, while the others, not hearing it, declared it dead. Writes went elsewhere meanwhile,
   * so subscribers are told ({@link MemberEvent.SelfRefuted}), once per claim.
   */
  private void noticeExclusion(Member update, String by) {
    boolean aboutSelf = update.name().equals(selfName);
    boolean excluded = update.status() == MemberStatus.DEAD || update.status() == MemberStatus.LEFT;
    if (!aboutSelf || !excluded || update.incarnation() <= exclusionReported
        || table.self().status() == MemberStatus.LEFT) {
      return;
    }
    exclusionReported = update.incarnation();
    info(selfName + " hears it was " + update.status() + " at incarnation " + update.incarnation()
        + " (from " + by + "): it may have missed writes");
    effects.publish(new MemberEvent.SelfRefuted(table.self(), by, update.status()));
  }

  private void handle(MemberTable.Change change, String by, String reason) {
    Member m = change.current();
    switch (change.outcome()) {
      case IGNORED -> { }
      case REFUTED -> {
        gossip.add(m);
        effects.refuted();
        info(selfName + " refutes being " + change.previous().status() + " at incarnation "
            + change.previous().incarnation() + " (heard from " + by + "): ALIVE at " + m.incarnation());
        if (change.previous().status() == MemberStatus.SUSPECT) {
          effects.publish(new MemberEvent.SelfRefuted(m, by, MemberStatus.SUSPECT));
        } // DEAD and LEFT claims were reported by noticeExclusion before the table refuted them
      }
      case JOINED -> {
        gossip.add(m);
        probeOrder.add(m.name());
        info(m.name() + " joined, seen by " + by + " (incarnation " + m.incarnation() + ")");
        effects.publish(new MemberEvent.MemberJoined(m, by));
        if (m.status() == MemberStatus.SUSPECT) {
          suspected(m, by, reason, true);
        }
      }
      case SUSPECTED -> {
        gossip.add(m);
        suspected(m, by, reason, change.previous().status() != MemberStatus.SUSPECT);
      }
      case ALIVE_AGAIN -> {
        gossip.add(m);
        cancelSuspicion(m.name());
        info(m.name() + " refuted suspicion, alive again by " + by + " (incarnation " + m.incarnation() + ")");
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
        gossip.add(m);
        if (!m.isUp()) {
          probeOrder.remove(m.name());
        }
      }
    }
  }

  private void suspected(Member m, String by, String reason, boolean newly) {
    Duration timeout = suspicionTimeout();
    SuspicionKey key = new SuspicionKey(m.name());
    suspicionTimers.add(key);
    effects.startTimer(key, new SuspicionTimeout(m.name(), m.incarnation(), timeout), timeout);
    if (newly) {
      info(m.name() + " suspected by " + by + " (" + reason + ")");
      effects.suspicionStarted();
      effects.publish(new MemberEvent.MemberSuspected(m, by, reason));
    }
  }

  private void cancelSuspicion(String name) {
    SuspicionKey key = new SuspicionKey(name);
    if (suspicionTimers.remove(key)) {
      effects.cancelTimer(key);
    }
  }

  private void down(Member m) {
    gossip.add(m);
    cancelSuspicion(m.name());
    probeOrder.remove(m.name());
  }

  /**
   * Encodes a message and sends it, filling the room left under max-datagram-size with gossip.
   * If the table holds the recipient as SUSPECT, DEAD or LEFT, that record goes first: it is the
   * "you are suspected / dead" notice that makes a live recipient refute.
   */
  private void send(InetSocketAddress to, String recipient, Function<List<Member>, SwimMessage> build) {
    List<Member> piggyback = new ArrayList<>();
    if (recipient != null) {
      table.get(recipient).filter(m -> m.status() != MemberStatus.ALIVE).ifPresent(piggyback::add);
    }
    int room = settings.maxDatagramSize - WireCodec.encodedSize(build.apply(piggyback));
    int limit = settings.retransmitLimit(table.upCount());
    piggyback.addAll(gossip.take(Math.max(0, room), limit, WireCodec::memberSize));
    effects.send(to, WireCodec.encode(build.apply(List.copyOf(piggyback))));
  }

  private static InetSocketAddress address(Member m) {
    return new InetSocketAddress(m.host(), m.clusterPort());
  }

  private void info(String line) {
    effects.info(selfName + " p" + period + ": " + line);
  }

  private void debug(Supplier<String> line) {
    effects.debug(() -> selfName + " p" + period + ": " + line.get());
  }
}
