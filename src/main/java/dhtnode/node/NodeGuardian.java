package dhtnode.node;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.PostStop;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import dhtnode.api.ClusterPageRoutes;
import dhtnode.api.MembershipRoutes;
import dhtnode.api.MetricsRoutes;
import dhtnode.api.ReadinessRoutes;
import dhtnode.api.RingOperatorRoutes;
import dhtnode.api.RingRoutes;
import dhtnode.api.Routes;
import dhtnode.api.StabilizationRoutes;
import dhtnode.common.HostPort;
import dhtnode.membership.LocalNode;
import dhtnode.membership.MembershipActor;
import dhtnode.metrics.Metrics;
import dhtnode.replication.ClockFile;
import dhtnode.replication.ClockKeeper;
import dhtnode.replication.PendingRequests;
import dhtnode.replication.ReplicaCoordinator;
import dhtnode.replication.ReplicaDirectory;
import dhtnode.replication.ReplyRouter;
import dhtnode.ring.RingActor;
import dhtnode.ring.RingMember;
import dhtnode.ring.RingStateStore;
import dhtnode.ring.RingView;
import dhtnode.stabilization.ReplicaStatus;
import dhtnode.stabilization.StabilizationPlanner;
import dhtnode.stabilization.Stabilizer;
import dhtnode.storage.HybridClock;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StoragePoller;
import dhtnode.storage.StorageSettings;
import java.time.Duration;

/**
 * The root of a node: spawns one actor per concern, hands each the refs it needs, and binds the
 * HTTP API. It decides nothing: the ring subscribes to membership itself (recording each member's
 * address in the {@link ReplicaDirectory} before it can name the member), the planner to the ring.
 * If the port cannot be bound the node shuts down with {@link StartupFailed}, which {@link Main}
 * turns into a non-zero exit. On SIGTERM, Akka's coordinated shutdown unbinds HTTP first and then
 * stops the actors, which closes storage cleanly.
 */
public final class NodeGuardian extends AbstractBehavior<NodeGuardian.Command> {

  public sealed interface Command {}

  private record Bound(ServerBinding binding) implements Command {}

  private record BindFailed(Throwable cause) implements Command {}

  /** The shutdown reason when the node could not start. */
  public static final class StartupFailed implements CoordinatedShutdown.Reason {
    @Override
    public String toString() {
      return "StartupFailed";
    }
  }

  /** The shutdown reason after this node's decommission: its ranges live elsewhere now. */
  public static final class Decommissioned implements CoordinatedShutdown.Reason {
    @Override
    public String toString() {
      return "Decommissioned";
    }
  }

  /** How often the storage gauges of /metrics are refreshed. */
  private static final Duration STORAGE_STATS_INTERVAL = Duration.ofSeconds(5);

  public static Behavior<Command> create(NodeSettings settings) {
    return Behaviors.setup(context -> new NodeGuardian(context, settings));
  }

  private final NodeSettings settings;
  private final ActorRef<MembershipActor.Command> membership;
  private final Metrics metrics;

  private NodeGuardian(ActorContext<Command> context, NodeSettings settings) {
    super(context);
    this.settings = settings;
    this.metrics = Metrics.withJvmMetrics(settings.name);
    metrics.nodeInfo(settings.storage.engineName(), settings.storage.fsync);
    HybridClock clock;
    ActorRef<ClockKeeper.Command> clockKeeper = null;
    if (settings.storage.durable()) {
      // one small read at start, like the cluster memory's: the node must begin above every
      // version its earlier runs issued, and must not start if it cannot know them
      ClockFile clockFile = new ClockFile(settings.storage.dataDir);
      clock = HybridClock.reserving(settings::wallMillis, settings.clockReserveAhead);
      try {
        clockFile.read().ifPresent(clock::restore);
        clockKeeper =
            context.spawn(
                ClockKeeper.create(
                    clock, clockFile::write, settings.clockReserveAhead.dividedBy(4)),
                "clock",
                DispatcherSelector.blocking());
      } catch (java.io.IOException e) {
        // without its reservation the node cannot tell which versions it already issued: the
        // clock stays unreserved (no write gets a version) and the node stops at once
        context
            .getLog()
            .error(
                "{} cannot read its clock reservation: {}; not starting",
                settings.name,
                e.getMessage());
        CoordinatedShutdown.get(context.getSystem()).run(new StartupFailed());
      }
    } else {
      clock = new HybridClock(settings::wallMillis); // nothing survives the process anyway
    }
    RingView ringView = new RingView(settings.ring, settings.replication.replicationFactor);
    ReplicaStatus status =
        new ReplicaStatus(settings.name, ringView::current, settings.storage.startsEmpty());
    ActorRef<StorageActor.Command> storage =
        context.spawn(
            StorageActor.create(
                settings.storage.engineFactory(),
                status,
                clock::observe,
                // one synced batch per mailbox drain instead of one fsync per write; without
                // fsync a write costs little enough that batching is not worth the wait
                settings.storage.fsync
                    ? StorageActor.WriteMode.grouped(metrics::storageBatch)
                    : StorageActor.WriteMode.PER_WRITE),
            "storage",
            DispatcherSelector.fromConfig(StorageActor.DISPATCHER));
    // every coordinator's requests to other nodes name this one router as replyTo: see ReplyRouter
    PendingRequests pending = new PendingRequests();
    ReplicaCoordinator.RemoteReplies remoteReplies =
        new ReplicaCoordinator.RemoteReplies(
            context.spawn(ReplyRouter.create(pending), ReplyRouter.NAME), pending);
    ReplicaDirectory directory =
        new ReplicaDirectory(
            settings.name,
            storage,
            ActorRefResolver.get(context.getSystem()),
            context.getSystem().name(),
            ringView);
    membership =
        context.spawn(
            MembershipActor.create(localNode(settings), settings.membership, metrics),
            "membership",
            DispatcherSelector.fromConfig(MembershipActor.DISPATCHER));
    context.watch(membership);
    ActorRef<RingActor.Command> ring =
        context.spawn(
            RingActor.create(
                new RingMember(
                    settings.name,
                    settings.identity.advertiseHost(),
                    settings.identity.clusterPort(),
                    settings.identity.httpPort()),
                ringView,
                settings.ring,
                new RingActor.Environment(
                    ringStateStore(settings.storage),
                    RingActor.remotePeers(context.getSystem()),
                    reason ->
                        CoordinatedShutdown.get(context.getSystem()).run(new Decommissioned()),
                    System::currentTimeMillis),
                new RingActor.MemberFeed(membership, directory::memberUp)),
            "ring",
            // the agreement's state is fsynced before each answer: blocking, so not on the default
            // dispatcher
            DispatcherSelector.blocking());
    metrics.ringEpoch(() -> ringView.current().epoch());
    metrics.ringRangesInTransition(new RangesInTransition(ringView));
    status.onBehind(epoch -> ring.tell(new RingActor.Observed(epoch, null)));
    context.spawn(StoragePoller.create(storage, metrics, STORAGE_STATS_INTERVAL), "storage-stats");
    ActorRef<Stabilizer.Command> stabilizer =
        context.spawn(
            Stabilizer.create(settings.name, storage, settings.stabilizer, status), "stabilizer");
    ActorRef<StabilizationPlanner.Command> planner =
        context.spawn(
            StabilizationPlanner.create(
                ring,
                new StabilizationPlanner.Node(
                    settings.name,
                    settings.replication.writeQuorum,
                    stabilizer,
                    name -> directory.remoteActor(name, "stabilizer"),
                    status,
                    epoch -> ring.tell(new RingActor.FillDone(epoch))),
                settings.stabilizer.plannerTiming(),
                metrics,
                settings::wallMillis,
                membership),
            "planner");
    Routes routes =
        new Routes(
            settings.http,
            settings.replication,
            settings.name,
            context.getSystem(),
            storage,
            directory,
            remoteReplies,
            clock,
            clockKeeper,
            RingActor.hints(ring, directory::clusterAddressOf)::observed,
            metrics);
    Route api =
        routes.route(
            new RingRoutes(settings.http, ringView).route(),
            new MembershipRoutes(
                    context.getSystem(), membership, settings.http.requestTimeout, ringView)
                .route(),
            new RingOperatorRoutes(context.getSystem(), ring, settings.http.requestTimeout).route(),
            new StabilizationRoutes(context.getSystem(), planner, settings.http.requestTimeout)
                .route(),
            new ReadinessRoutes(
                    context.getSystem(),
                    settings.name,
                    membership,
                    planner,
                    ringView,
                    settings.http.requestTimeout)
                .route(),
            new MetricsRoutes(metrics).route(),
            new ClusterPageRoutes().route());
    context.pipeToSelf(
        Http.get(context.getSystem())
            .newServerAt(settings.identity.bindHost(), settings.identity.httpPort())
            .withSettings(settings.http.serverSettings(context.getSystem()))
            .bind(api),
        (binding, failure) -> failure == null ? new Bound(binding) : new BindFailed(failure));
  }

  /** The gauge's value, computed once per snapshot rather than per scrape. */
  private static final class RangesInTransition implements java.util.function.LongSupplier {
    private final RingView view;
    private dhtnode.ring.RingSnapshot seen;
    private long count;

    RangesInTransition(RingView view) {
      this.view = view;
    }

    @Override
    public synchronized long getAsLong() {
      dhtnode.ring.RingSnapshot now = view.current();
      if (now != seen) {
        seen = now;
        count = now.rangesInTransition().size();
      }
      return count;
    }
  }

  /** Ring epochs live beside the data they place: durable with RocksDB, gone with memory. */
  static RingStateStore ringStateStore(StorageSettings settings) {
    return switch (settings.engine) {
      case ROCKSDB -> RingStateStore.inDirectory(settings.dataDir);
      case MEMORY -> RingStateStore.inMemory();
    };
  }

  /**
   * This node as SWIM sees it: name, addresses, cluster name and seeds. A seed given by host name
   * stays unresolved here: it is looked up at each JOIN sent to it.
   */
  static LocalNode localNode(NodeSettings settings) {
    return new LocalNode(
        settings.name,
        settings.identity.advertiseHost(),
        settings.identity.clusterPort(),
        settings.identity.httpPort(),
        settings.identity.seeds().stream().map(HostPort::socketAddress).toList(),
        settings.identity.bindHost(),
        settings.identity.clusterName());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Bound.class, this::onBound)
        .onMessage(BindFailed.class, this::onBindFailed)
        .onSignal(Terminated.class, this::onTerminated)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onBound(Bound bound) {
    bound.binding().addToCoordinatedShutdown(Duration.ofSeconds(3), getContext().getSystem());
    getContext()
        .getLog()
        .info(
            "{} serving HTTP on {}:{}, advertised as {} in cluster {} (storage: {} in {}, fsync {})",
            settings.name,
            settings.identity.bindHost(),
            settings.identity.httpPort(),
            settings.identity.advertiseHost(),
            settings.identity.clusterName(),
            settings.storage.engineName(),
            settings.storage.dataDir,
            settings.storage.fsync ? "on" : "off");
    return this;
  }

  /**
   * Membership stops by itself only when leaving during shutdown; at any other time (e.g. the
   * cluster port's UDP socket could not be bound) the node cannot be part of a cluster.
   */
  private Behavior<Command> onTerminated(Terminated terminated) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(getContext().getSystem());
    if (terminated.getRef().equals(membership) && shutdown.getShutdownReason().isEmpty()) {
      getContext()
          .getLog()
          .error(
              "{} membership stopped unexpectedly (is UDP port {} free?); shutting down",
              settings.name,
              settings.identity.clusterPort());
      shutdown.run(new StartupFailed());
    }
    return this;
  }

  private Behavior<Command> onPostStop() {
    metrics.close(); // unhooks the GC listeners, which outlive the node in a shared JVM (tests)
    return this;
  }

  private Behavior<Command> onBindFailed(BindFailed failed) {
    getContext()
        .getLog()
        .error(
            "{} cannot bind HTTP on {}:{}: {}",
            settings.name,
            settings.identity.bindHost(),
            settings.identity.httpPort(),
            failed.cause().getMessage());
    CoordinatedShutdown.get(getContext().getSystem()).run(new StartupFailed());
    return this;
  }
}
