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
import dhtnode.metrics.Metrics;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * SWIM membership of this node (see docs/membership.md): the Akka adapter around the pure {@link
 * SwimProtocol}. It feeds the protocol the datagrams of its {@link UdpTransport} and the timers it
 * asked for, carries out what the protocol asks (send, start or cancel a timer, log, count),
 * publishes every {@link MemberEvent} to subscribers, and answers queries. A new subscriber first
 * gets a {@code MemberJoined} for every ALIVE or SUSPECT member, this node included.
 */
public final class MembershipActor extends AbstractBehavior<MembershipActor.Command> {

  public sealed interface Command {}

  /** Publish every {@link MemberEvent} to {@code subscriber}, starting with the current members. */
  public record Subscribe(ActorRef<MemberEvent> subscriber) implements Command {}

  /** Answered with {@link Members}. */
  public record GetMembers(ActorRef<Members> replyTo) implements Command {}

  /**
   * Every remembered member, this node and DEAD/LEFT ones included, ordered by name, with the
   * {@link Standing} of each by name (a member without one is shown without it).
   */
  public record Members(String self, List<Member> members, Map<String, Standing> standings) {
    public Members(String self, List<Member> members) {
      this(self, members, Map.of());
    }
  }

  /**
   * When a member entered its current status, by this node's wall clock (a later incarnation in the
   * same status does not move it), and the accusers of a running suspicion of it, by name (empty
   * unless it is SUSPECT here; a suspicion heard from a version-1 node has no accuser).
   */
  public record Standing(Instant since, List<String> suspectedBy) {}

  /**
   * Gossip LEFT to several members, wait a moment for the datagrams to go out, answer {@code Done}
   * and stop. After this the node refutes nothing.
   */
  public record Leave(ActorRef<Done> replyTo) implements Command {}

  private record Received(UdpTransport.Datagram datagram) implements Command {}

  /** A timer the protocol started is due. */
  private record Fire(SwimProtocol.Timer timer) implements Command {}

  private enum LeaveLingerOver implements Command {
    INSTANCE
  }

  private static final Object LEAVE_TIMER = "leave";

  /** The dispatcher SWIM and its UDP transport run on, away from everything else. */
  public static final String DISPATCHER = "dht.membership.dispatcher";

  /**
   * The production actor: binds UDP on {@code node.bindHost:node.clusterPort} (as a child
   * transport), starts from a clock-derived incarnation and leaves the cluster in coordinated
   * shutdown's cluster-leave phase.
   */
  public static Behavior<Command> create(
      LocalNode node, MembershipSettings settings, Metrics metrics) {
    return Behaviors.<Command>setup(
        context -> {
          ActorRef<UdpTransport.Command> transport =
              UdpTransport.spawn(context, node.bindAddress(), "udp", DISPATCHER);
          // Epoch millis: above any incarnation an earlier run of this node can have reached, so a
          // restarted node is ALIVE again even where the cluster remembers it DEAD.
          return create(
              node, settings, transport, new Random(), System.currentTimeMillis(), true, metrics);
        });
  }

  /**
   * The actor over a given transport (a real {@link UdpTransport} or a test probe), random source
   * and starting incarnation. With {@code leaveOnShutdown} it registers a coordinated-shutdown task
   * that sends {@link Leave} and waits for it. Probes, suspicions and deaths are counted in {@code
   * metrics}.
   */
  public static Behavior<Command> create(
      LocalNode node,
      MembershipSettings settings,
      ActorRef<UdpTransport.Command> transport,
      Random random,
      long incarnation,
      boolean leaveOnShutdown,
      Metrics metrics) {
    Function<SwimProtocol.Effects, SwimProtocol> protocol =
        effects -> new SwimProtocol(node, incarnation, settings, random, System::nanoTime, effects);
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new MembershipActor(
                        context, timers, settings, transport, protocol, leaveOnShutdown, metrics)));
  }

  /** Longest a graceful leave may take: the linger after LEFT is sent, plus slack. */
  public static Duration leaveTimeout(MembershipSettings settings) {
    return settings.pingTimeout.plusSeconds(2);
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final MembershipSettings settings;
  private final ActorRef<UdpTransport.Command> transport;
  private final SwimProtocol protocol;
  private final Set<ActorRef<MemberEvent>> subscribers = new HashSet<>();
  private final List<ActorRef<Done>> leaveWaiters = new ArrayList<>();
  private final Optional<Cancellable> shutdownTask;

  /** {@code protocolFor}: the SWIM core of this node, given the effects this actor carries out. */
  private MembershipActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      MembershipSettings settings,
      ActorRef<UdpTransport.Command> transport,
      Function<SwimProtocol.Effects, SwimProtocol> protocolFor,
      boolean leaveOnShutdown,
      Metrics metrics) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.transport = transport;
    this.protocol = protocolFor.apply(new ActorEffects(metrics));
    context.watch(transport);
    transport.tell(
        new UdpTransport.Register(
            context.messageAdapter(UdpTransport.Datagram.class, Received::new)));
    protocol.start();
    this.shutdownTask = leaveOnShutdown ? Optional.of(registerLeaveOnShutdown()) : Optional.empty();
  }

  /** The protocol's effects, carried out by this actor. */
  private final class ActorEffects implements SwimProtocol.Effects {
    private final Metrics metrics;

    ActorEffects(Metrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void send(InetSocketAddress to, byte[] datagram) {
      transport.tell(new UdpTransport.Send(to, ByteString.fromArrayUnsafe(datagram)));
    }

    @Override
    public void startTimer(Object key, SwimProtocol.Timer timer, Duration delay) {
      timers.startSingleTimer(key, new Fire(timer), delay);
    }

    @Override
    public void cancelTimer(Object key) {
      timers.cancel(key);
    }

    @Override
    public void publish(MemberEvent event) {
      for (ActorRef<MemberEvent> subscriber : subscribers) {
        subscriber.tell(event);
      }
    }

    @Override
    public void info(String line) {
      log().info(line);
    }

    @Override
    public void warn(String line) {
      log().warn(line);
    }

    @Override
    public void debug(Supplier<String> line) {
      if (log().isDebugEnabled()) {
        log().debug(line.get());
      }
    }

    @Override
    public void probeStarted() {
      metrics.swimProbe();
    }

    @Override
    public void suspicionStarted() {
      metrics.swimSuspicion();
    }

    @Override
    public void deathDeclared() {
      metrics.swimDeath();
    }

    @Override
    public void probeConcluded(SwimProtocol.ProbeOutcome outcome) {
      metrics.swimProbeOutcome(outcome.name().toLowerCase(java.util.Locale.ROOT));
    }

    @Override
    public void probeRoundTrip(long nanos) {
      metrics.swimProbeRoundTrip(nanos);
    }

    @Override
    public void tickLateness(long nanos) {
      metrics.swimTickLateness(nanos);
      // members by status, once per period
      long[] counts = new long[MemberStatus.values().length];
      protocol.members().forEach(m -> counts[m.status().ordinal()]++);
      for (MemberStatus status : MemberStatus.values()) {
        metrics.swimMembers(status.name(), counts[status.ordinal()]);
      }
    }

    @Override
    public void refuted() {
      metrics.swimRefutation();
    }
  }

  private Cancellable registerLeaveOnShutdown() {
    ActorSystem<Void> system = context.getSystem();
    ActorRef<Command> self = context.getSelf();
    Duration timeout = leaveTimeout(settings);
    return CoordinatedShutdown.get(system)
        .addCancellableTask(
            CoordinatedShutdown.PhaseClusterLeave(),
            "membership-leave",
            () ->
                AskPattern.<Command, Done>ask(self, Leave::new, timeout, system.scheduler())
                    // a leave that cannot finish must not hold up the rest of the shutdown
                    .exceptionally(failure -> Done.getInstance()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Received.class, this::onReceived)
        .onMessage(Fire.class, this::onFire)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(GetMembers.class, this::onGetMembers)
        .onMessage(Leave.class, this::onLeave)
        .onMessage(LeaveLingerOver.class, this::onLeaveLingerOver)
        .onSignal(Terminated.class, this::onTerminated)
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private Logger log() {
    return context.getLog();
  }

  private Behavior<Command> onReceived(Received received) {
    UdpTransport.Datagram datagram = received.datagram();
    protocol.onDatagram(datagram.from(), datagram.payload().toArrayUnsafe());
    return this;
  }

  private Behavior<Command> onFire(Fire fire) {
    protocol.onTimer(fire.timer());
    return this;
  }

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    ActorRef<MemberEvent> subscriber = subscribe.subscriber();
    if (subscribers.add(subscriber)) {
      context.watch(subscriber);
    }
    for (Member m : protocol.members()) {
      if (m.isUp()) {
        subscriber.tell(new MemberEvent.MemberJoined(m, protocol.selfName()));
      }
    }
    return this;
  }

  private Behavior<Command> onGetMembers(GetMembers get) {
    List<Member> members = protocol.members();
    // the protocol's clock is System.nanoTime (monotonic); shown against the wall clock
    long nowNanos = System.nanoTime();
    Instant now = Instant.now();
    Map<String, Standing> standings = new HashMap<>();
    for (Member m : members) {
      Long since = protocol.statusSinceNanos(m.name());
      List<String> accusers = protocol.accusers(m.name()).stream().sorted().toList();
      standings.put(
          m.name(),
          new Standing(since == null ? null : now.minusNanos(nowNanos - since), accusers));
    }
    get.replyTo().tell(new Members(protocol.selfName(), members, Map.copyOf(standings)));
    return this;
  }

  private Behavior<Command> onLeave(Leave leave) {
    leaveWaiters.add(leave.replyTo());
    if (protocol.isLeaving()) {
      return this;
    }
    protocol.leave();
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
      log()
          .error(
              "{} p{}: UDP transport stopped; membership stops",
              protocol.selfName(),
              protocol.period());
      return Behaviors.stopped();
    }
    subscribers.remove(terminated.getRef());
    return this;
  }

  private Behavior<Command> onPostStop(PostStop stop) {
    shutdownTask.ifPresent(Cancellable::cancel);
    return this;
  }
}
