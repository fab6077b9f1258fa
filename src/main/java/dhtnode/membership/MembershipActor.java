package dhtnode.membership;

import akka.Done;
import akka.actor.Cancellable;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.util.ByteString;
import dhtnode.HostPort;
import dhtnode.NodeSettings;
import dhtnode.metrics.Metrics;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

/**
 * SWIM membership of this node (Das, Gupta, Motivala 2002; see docs/membership.md). Owns the
 * member table, the gossip buffer and the probe schedule; talks to the network only through a
 * {@link UdpTransport}. Each protocol period it concludes the previous probe (no ACK directly or
 * through K helpers: SUSPECT) and probes the next member in randomized round-robin order. A
 * suspect that does not refute in time is declared DEAD. Every change is gossiped, logged as one
 * INFO line and published as a {@link MemberEvent} to subscribers; a new subscriber first gets a
 * {@code MemberJoined} for every ALIVE or SUSPECT member, this node included.
 */
public final class MembershipActor extends AbstractBehavior<MembershipActor.Command> {

  public sealed interface Command {}

  /** Publish every {@link MemberEvent} to {@code subscriber}, starting with the current members. */
  public record Subscribe(ActorRef<MemberEvent> subscriber) implements Command {}

  /** Answered with {@link Members}. */
  public record GetMembers(ActorRef<Members> replyTo) implements Command {}

  /** Every remembered member, this node and DEAD/LEFT ones included, ordered by name. */
  public record Members(String self, List<Member> members) {}

  /**
   * Gossip LEFT to several members, wait a moment for the datagrams to go out, answer
   * {@code Done} and stop. After this the node refutes nothing.
   */
  public record Leave(ActorRef<Done> replyTo) implements Command {}

  private record Received(UdpTransport.Datagram datagram) implements Command {}

  private enum Tick implements Command { INSTANCE }

  private enum JoinTick implements Command { INSTANCE }

  private enum LeaveLingerOver implements Command { INSTANCE }

  private record PingTimeout(long seq) implements Command {}

  private record SuspicionTimeout(String name, long incarnation, Duration after) implements Command {}

  private record SuspicionTimer(String name) {}

  private static final Object TICK_TIMER = "tick";
  private static final Object JOIN_TIMER = "join";
  private static final Object PING_TIMER = "ping";
  private static final Object LEAVE_TIMER = "leave";

  /** Members told directly that this node leaves; the rest hear it by gossip. */
  private static final int LEAVE_FANOUT = 8;

  /**
   * The production actor: binds UDP on {@code node.host:node.clusterPort} (as a child transport),
   * starts from a clock-derived incarnation and leaves the cluster in coordinated shutdown's
   * cluster-leave phase.
   */
  public static Behavior<Command> create(NodeSettings node, MembershipSettings settings, Metrics metrics) {
    return Behaviors.<Command>setup(context -> {
      InetSocketAddress bind = new InetSocketAddress(node.host, node.clusterPort);
      ActorRef<UdpTransport.Command> transport = UdpTransport.spawn(context, bind, "udp");
      // Epoch millis: above any incarnation an earlier run of this node can have reached, so a
      // restarted node is ALIVE again even where the cluster remembers it DEAD.
      return create(node, settings, transport, new Random(), System.currentTimeMillis(), true, metrics);
    });
  }

  /**
   * The actor over a given transport (a real {@link UdpTransport} or a test probe), random source
   * and starting incarnation. With {@code leaveOnShutdown} it registers a coordinated-shutdown
   * task that sends {@link Leave} and waits for it. Probes, suspicions and deaths are counted in
   * {@code metrics}.
   */
  public static Behavior<Command> create(
      NodeSettings node,
      MembershipSettings settings,
      ActorRef<UdpTransport.Command> transport,
      Random random,
      long incarnation,
      boolean leaveOnShutdown,
      Metrics metrics) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new MembershipActor(context, timers, node, settings, transport, random, incarnation, leaveOnShutdown, metrics)));
  }

  /** Longest a graceful leave may take: the linger after LEFT is sent, plus slack. */
  public static Duration leaveTimeout(MembershipSettings settings) {
    return settings.pingTimeout.plusSeconds(2);
  }

  private record Probe(long seq, String target, int helpers, boolean acked) {
    Probe markAcked() {
      return new Probe(seq, target, helpers, true);
    }

    Probe withHelpers(int n) {
      return new Probe(seq, target, n, acked);
    }
  }

  /** A probe this node runs for another member's PING_REQ. */
  private record Relay(InetSocketAddress requester, long requesterSeq, String target, long period) {}

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final MembershipSettings settings;
  private final ActorRef<UdpTransport.Command> transport;
  private final Random random;
  private final String selfName;
  private final List<InetSocketAddress> seeds;
  private final MemberTable table;
  private final GossipBuffer gossip = new GossipBuffer();
  private final ProbeOrder probeOrder;
  private final Map<Long, Relay> relays = new HashMap<>();
  private final Set<ActorRef<MemberEvent>> subscribers = new HashSet<>();
  private final List<ActorRef<Done>> leaveWaiters = new ArrayList<>();
  private final Optional<Cancellable> shutdownTask;
  private final long retentionPeriods;
  private final Metrics metrics;

  private long period;
  private long nextSeq = 1;
  private boolean joined;
  private long lastTickNanos = System.nanoTime();
  /** Incarnation of the newest DEAD or LEFT claim about this node already reported. */
  private long exclusionReported = Long.MIN_VALUE;
  private boolean leaving;
  private Probe probe;

  private MembershipActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      NodeSettings node,
      MembershipSettings settings,
      ActorRef<UdpTransport.Command> transport,
      Random random,
      long incarnation,
      boolean leaveOnShutdown,
      Metrics metrics) {
    super(context);
    this.metrics = metrics;
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.transport = transport;
    this.random = random;
    this.selfName = node.name;
    this.probeOrder = new ProbeOrder(random);
    Member self = new Member(node.name, node.host, node.clusterPort, node.httpPort, MemberStatus.ALIVE, incarnation);
    this.table = new MemberTable(self);
    this.retentionPeriods =
        Math.max(1, settings.deadMemberRetention.toNanos() / settings.protocolPeriod.toNanos());

    InetSocketAddress selfAddress = new InetSocketAddress(node.host, node.clusterPort);
    List<InetSocketAddress> others = new ArrayList<>();
    for (HostPort seed : node.seeds) {
      InetSocketAddress address = new InetSocketAddress(seed.host(), seed.port());
      if (!address.equals(selfAddress)) {
        others.add(address);
      }
    }
    this.seeds = List.copyOf(others);

    context.watch(transport);
    transport.tell(new UdpTransport.Register(context.messageAdapter(UdpTransport.Datagram.class, Received::new)));
    timers.startTimerWithFixedDelay(TICK_TIMER, Tick.INSTANCE, settings.protocolPeriod);
    if (seeds.isEmpty()) {
      // only this node among the seeds: it starts a new cluster (and accepts joins)
      joined = true;
      log().info("{} p{}: starting a new cluster as {} at incarnation {}", selfName, period, self.name(), incarnation);
    } else {
      log().info("{} p{}: joining through seeds {}", selfName, period, seeds);
      sendJoins(seeds);
      timers.startTimerWithFixedDelay(JOIN_TIMER, JoinTick.INSTANCE, settings.joinRetryInterval);
    }
    this.shutdownTask = leaveOnShutdown ? Optional.of(registerLeaveOnShutdown()) : Optional.empty();
  }

  private Cancellable registerLeaveOnShutdown() {
    ActorSystem<Void> system = context.getSystem();
    ActorRef<Command> self = context.getSelf();
    Duration timeout = leaveTimeout(settings);
    return CoordinatedShutdown.get(system).addCancellableTask(
        CoordinatedShutdown.PhaseClusterLeave(),
        "membership-leave",
        () -> AskPattern.<Command, Done>ask(self, Leave::new, timeout, system.scheduler())
            // a leave that cannot finish must not hold up the rest of the shutdown
            .exceptionally(failure -> Done.getInstance()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Received.class, this::onReceived)
        .onMessage(Tick.class, this::onTick)
        .onMessage(JoinTick.class, this::onJoinTick)
        .onMessage(PingTimeout.class, this::onPingTimeout)
        .onMessage(SuspicionTimeout.class, this::onSuspicionTimeout)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(GetMembers.class, this::onGetMembers)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(LeaveLingerOver.class, this::onLeaveLingerOver)
        .onSignal(Terminated.class, this::onTerminated)
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private org.slf4j.Logger log() {
    return context.getLog();
  }

  // ---- protocol period -------------------------------------------------------------------

  private Behavior<Command> onTick(Tick tick) {
    if (leaving) {
      return this;
    }
    period++;
    noticePause();
    concludeProbe();
    relays.values().removeIf(r -> r.period() < period - 1);
    for (Member forgotten : table.purge(period - retentionPeriods)) {
      log().debug("{} p{}: forgetting {} ({})", selfName, period, forgotten.name(), forgotten.status());
    }
    startProbe();
    return this;
  }

  /**
   * A tick far later than its period means this node itself was stalled (SIGSTOP, a long GC, a
   * frozen VM). Past the suspicion timeout the others have likely declared it DEAD; and the probe
   * in flight timed out through this node's own silence, so its target is not suspected.
   */
  private void noticePause() {
    long now = System.nanoTime();
    long gap = now - lastTickNanos;
    lastTickNanos = now;
    long away = suspicionTimeout().plus(settings.protocolPeriod).toNanos();
    if (gap > away && table.upCount() > 1) {
      log().info("{} p{}: {} was unresponsive for {} ms, longer than its suspicion timeout: "
          + "the cluster may have declared it dead", selfName, period, selfName, gap / 1_000_000);
      publish(new MemberEvent.SelfAway(table.self(), gap / 1_000_000));
      probe = null;
    }
  }

  private void concludeProbe() {
    if (probe == null) {
      return;
    }
    Probe finished = probe;
    probe = null;
    timers.cancel(PING_TIMER);
    if (!finished.acked()) {
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
    probe = new Probe(seq, member.name(), 0, false);
    metrics.swimProbe();
    // scheduled before sending, so whoever sees the PING knows the timeout is armed
    timers.startSingleTimer(PING_TIMER, new PingTimeout(seq), settings.pingTimeout);
    send(address(member), member.name(),
        g -> new SwimMessage.Ping(table.self(), seq, member.name(), g));
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

  private Behavior<Command> onPingTimeout(PingTimeout timeout) {
    if (leaving || probe == null || probe.seq() != timeout.seq() || probe.acked()) {
      return this;
    }
    Optional<Member> target = table.get(probe.target());
    if (target.isEmpty()) {
      return this;
    }
    List<Member> candidates = new ArrayList<>(table.upOthers());
    candidates.removeIf(m -> m.name().equals(probe.target()));
    Collections.shuffle(candidates, random);
    List<Member> helpers = candidates.subList(0, Math.min(settings.indirectProbes, candidates.size()));
    for (Member helper : helpers) {
      send(address(helper), helper.name(),
          g -> new SwimMessage.PingReq(table.self(), timeout.seq(), target.get(), g));
    }
    probe = probe.withHelpers(helpers.size());
    log().debug("{} p{}: no direct ack from {}, asked {} helpers", selfName, period, probe.target(), helpers.size());
    return this;
  }

  private Behavior<Command> onSuspicionTimeout(SuspicionTimeout timeout) {
    if (leaving) {
      return this;
    }
    String reason = "suspect for " + timeout.after().toMillis() + " ms, not refuted";
    handle(table.confirmDead(timeout.name(), timeout.incarnation(), period), selfName, reason);
    return this;
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
  private Behavior<Command> onJoinTick(JoinTick tick) {
    if (leaving) {
      return this;
    }
    if (!joined) {
      sendJoins(seeds);
      return this;
    }
    Set<InetSocketAddress> up = new HashSet<>();
    for (Member m : table.upOthers()) {
      up.add(address(m));
    }
    List<InetSocketAddress> unreachable = new ArrayList<>(seeds);
    unreachable.removeAll(up);
    sendJoins(unreachable);
    return this;
  }

  private void sendJoins(List<InetSocketAddress> to) {
    for (InetSocketAddress seed : to) {
      long seq = nextSeq++;
      send(seed, null, g -> new SwimMessage.Join(table.self(), seq, g));
    }
  }

  // ---- datagrams -------------------------------------------------------------------------

  private Behavior<Command> onReceived(Received received) {
    if (leaving) {
      return this;
    }
    InetSocketAddress from = received.datagram().from();
    SwimMessage message;
    try {
      message = WireCodec.decode(received.datagram().payload().toArrayUnsafe());
    } catch (WireCodec.MalformedDatagramException e) {
      log().debug("{} p{}: dropping datagram from {}: {}", selfName, period, from, e.getMessage());
      return this;
    } catch (RuntimeException e) {
      log().debug("{} p{}: dropping undecodable datagram from {}: {}", selfName, period, from, e.toString());
      return this;
    }
    String sender = message.from().name();
    if (sender.equals(selfName)) {
      log().debug("{} p{}: dropping datagram from {} that claims to be this node", selfName, period, from);
      return this;
    }
    log().debug("{} p{}: {} from {} at {}", selfName, period, message.getClass().getSimpleName(), sender, from);
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
    return this;
  }

  private void onPing(SwimMessage.Ping ping, InetSocketAddress from) {
    if (!ping.target().equals(selfName)) {
      log().debug("{} p{}: ignoring ping for {}", selfName, period, ping.target());
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
      probe = probe.markAcked();
      timers.cancel(PING_TIMER);
      return;
    }
    Relay relay = relays.remove(ack.seq());
    if (relay != null && relay.target().equals(ack.subject())) {
      send(relay.requester(), null, g -> new SwimMessage.Ack(table.self(), relay.requesterSeq(), ack.subject(), g));
    }
  }

  private void onJoin(SwimMessage.Join join, InetSocketAddress from) {
    // The reply carries the full list, so it is not held to max-datagram-size.
    long seq = join.seq();
    byte[] bytes = WireCodec.encode(new SwimMessage.JoinReply(table.self(), seq, table.all()));
    transport.tell(new UdpTransport.Send(from, ByteString.fromArray(bytes)));
  }

  private void onJoinReply(SwimMessage.JoinReply reply) {
    if (!joined) {
      joined = true;
      log().info("{} p{}: joined the cluster through {} ({} members known)",
          selfName, period, reply.from().name(), table.all().size());
    }
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
    log().info("{} p{}: {} hears it was {} at incarnation {} (from {}): it may have missed writes",
        selfName, period, selfName, update.status(), update.incarnation(), by);
    publish(new MemberEvent.SelfRefuted(table.self(), by, update.status()));
  }

  private void handle(MemberTable.Change change, String by, String reason) {
    Member m = change.current();
    switch (change.outcome()) {
      case IGNORED -> { }
      case REFUTED -> {
        gossip.add(m);
        log().info("{} p{}: {} refutes being {} at incarnation {} (heard from {}): ALIVE at {}",
            selfName, period, selfName, change.previous().status(), change.previous().incarnation(), by, m.incarnation());
        if (change.previous().status() == MemberStatus.SUSPECT) {
          publish(new MemberEvent.SelfRefuted(m, by, MemberStatus.SUSPECT));
        } // DEAD and LEFT claims were reported by noticeExclusion before the table refuted them
      }
      case JOINED -> {
        gossip.add(m);
        probeOrder.add(m.name());
        log().info("{} p{}: {} joined, seen by {} (incarnation {})", selfName, period, m.name(), by, m.incarnation());
        publish(new MemberEvent.MemberJoined(m, by));
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
        timers.cancel(new SuspicionTimer(m.name()));
        log().info("{} p{}: {} refuted suspicion, alive again by {} (incarnation {})",
            selfName, period, m.name(), by, m.incarnation());
        publish(new MemberEvent.MemberAlive(m, by));
      }
      case DIED -> {
        down(m);
        log().info("{} p{}: {} declared dead by {} ({})", selfName, period, m.name(), by, reason);
        metrics.swimDeath();
        publish(new MemberEvent.MemberDied(m, by, reason));
      }
      case LEFT -> {
        down(m);
        log().info("{} p{}: {} left, heard from {}", selfName, period, m.name(), by);
        publish(new MemberEvent.MemberLeft(m, by));
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
    timers.startSingleTimer(new SuspicionTimer(m.name()), new SuspicionTimeout(m.name(), m.incarnation(), timeout), timeout);
    if (newly) {
      log().info("{} p{}: {} suspected by {} ({})", selfName, period, m.name(), by, reason);
      metrics.swimSuspicion();
      publish(new MemberEvent.MemberSuspected(m, by, reason));
    }
  }

  private void down(Member m) {
    gossip.add(m);
    timers.cancel(new SuspicionTimer(m.name()));
    probeOrder.remove(m.name());
  }

  private void publish(MemberEvent event) {
    for (ActorRef<MemberEvent> subscriber : subscribers) {
      subscriber.tell(event);
    }
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
    int room = settings.maxDatagramSize - WireCodec.encode(build.apply(piggyback)).length;
    int limit = settings.retransmitLimit(table.upCount());
    piggyback.addAll(gossip.take(Math.max(0, room), limit, WireCodec::memberSize));
    byte[] bytes = WireCodec.encode(build.apply(List.copyOf(piggyback)));
    transport.tell(new UdpTransport.Send(to, ByteString.fromArray(bytes)));
  }

  private static InetSocketAddress address(Member m) {
    return new InetSocketAddress(m.host(), m.clusterPort());
  }

  // ---- API ---------------------------------------------------------------------------------

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    ActorRef<MemberEvent> subscriber = subscribe.subscriber();
    if (subscribers.add(subscriber)) {
      context.watch(subscriber);
    }
    for (Member m : table.all()) {
      if (m.isUp()) {
        subscriber.tell(new MemberEvent.MemberJoined(m, selfName));
      }
    }
    return this;
  }

  private Behavior<Command> onGetMembers(GetMembers get) {
    get.replyTo().tell(new Members(selfName, table.all()));
    return this;
  }

  private Behavior<Command> onLeave(Leave leave) {
    leaveWaiters.add(leave.replyTo());
    if (leaving) {
      return this;
    }
    leaving = true;
    timers.cancelAll();
    Member left = table.leave();
    gossip.add(left);
    List<Member> targets = new ArrayList<>(table.upOthers());
    Collections.shuffle(targets, random);
    targets = targets.subList(0, Math.min(LEAVE_FANOUT, targets.size()));
    for (Member target : targets) {
      long seq = nextSeq++;
      send(address(target), target.name(), g -> new SwimMessage.Ping(left, seq, target.name(), g));
    }
    log().info("{} p{}: leaving the cluster, LEFT sent to {}", selfName, period,
        targets.stream().map(Member::name).toList());
    // UDP sends are asynchronous: linger so the datagrams leave before the system goes down
    timers.startSingleTimer(LEAVE_TIMER, LeaveLingerOver.INSTANCE, settings.pingTimeout);
    return this;
  }

  private Behavior<Command> onLeaveLingerOver(LeaveLingerOver over) {
    for (ActorRef<Done> waiter : leaveWaiters) {
      waiter.tell(Done.getInstance());
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onTerminated(Terminated terminated) {
    if (terminated.getRef().equals(transport)) {
      log().error("{} p{}: UDP transport stopped; membership stops", selfName, period);
      return Behaviors.stopped();
    }
    Iterator<ActorRef<MemberEvent>> it = subscribers.iterator();
    while (it.hasNext()) {
      if (it.next().equals(terminated.getRef())) {
        it.remove();
      }
    }
    return this;
  }

  private Behavior<Command> onPostStop(PostStop stop) {
    shutdownTask.ifPresent(Cancellable::cancel);
    return this;
  }
}
