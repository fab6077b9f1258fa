package dhtnode.ring;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dhtnode.common.CborSerializable;
import dhtnode.membership.Member;
import dhtnode.membership.MemberEvent;
import dhtnode.membership.MemberStatus;
import dhtnode.membership.MembershipActor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

// Why this file stays long (about 660 lines): the agreement and the proposal policy are plain
// classes (RingAgreement, RingPolicy, RingConfig); this actor only carries them, but it carries a
// lot: peer messages and ticks, persistence before every answer, the SWIM view and down-times the
// policy reads, the operator's force-remove and decommission waiters, and the publication of each
// epoch to the view and subscribers. All of it is sequenced by the one Ready the agreement drains,
// so it stays one actor rather than several that would have to order their effects among them.
/**
 * This node's part in the agreed sequence of ring epochs: a thin adapter around the pure {@link
 * RingAgreement} (Paxos per epoch slot, catch-up) and {@link RingPolicy} (what to propose). It
 * carries their messages to peers' ring actors over remoting, drives their ticks with a timer,
 * persists the agreement's state through a {@link RingStateStore} before any answer leaves (the
 * actor runs on the blocking-IO dispatcher for that), and publishes every committed epoch as a
 * {@link RingSnapshot} to the {@link RingView} and then to subscribers, with one INFO line.
 *
 * <p>SWIM events only feed the policy: they never change the ring by themselves. A node with no
 * persisted state is in no ring (epoch 0) until it catches up from a peer, unless it is told to
 * found a new cluster. Local commands: {@link FillDone} (from this node's stabilizer), {@link
 * ForceRemove} and {@link Decommission} (from the operator's routes), {@link Observed} (a fenced
 * reply showed a later epoch).
 */
public final class RingActor extends AbstractBehavior<RingActor.Command> {

  public sealed interface Command {}

  /**
   * A membership event: adapted from the membership actor this ring subscribed to (see {@link
   * MemberFeed}).
   */
  public record MemberEventReceived(MemberEvent event) implements Command {}

  /**
   * Tells {@code subscriber} the current snapshot now (if this node has an epoch) and every new one
   * after.
   */
  public record Subscribe(ActorRef<RingSnapshot> subscriber) implements Command {}

  public record Unsubscribe(ActorRef<RingSnapshot> subscriber) implements Command {}

  /** A ring agreement message from a peer's ring actor. */
  public record Peer(RingMessage message) implements Command, CborSerializable {}

  /**
   * This node holds every range it gains in {@code epoch}'s transition (sent by the stabilizer once
   * its fills for that epoch are done); told to every member of the epoch.
   */
  public record FillDone(long epoch) implements Command {}

  /**
   * A replica answered from a later epoch: ask it (named by its cluster address {@code host:port}
   * or by its node name; null for any member) for that epoch now.
   */
  public record Observed(long epoch, String fromAddress) implements Command {}

  /**
   * Operator: remove {@code name}, which is gone for good, even if ranges only it held are lost.
   */
  public record ForceRemove(String name, ActorRef<OperatorReply> replyTo) implements Command {}

  /** Operator: move this node's ranges out, commit its removal, then stop the process. */
  public record Decommission(ActorRef<OperatorReply> replyTo) implements Command {}

  /** Answered with {@link Status}. */
  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /**
   * The agreement as this node sees it: its latest committed epoch and configuration (null at epoch
   * 0), who it thinks leads, the FillDone reports for this epoch and the gainers still missing from
   * them, and whether it is proposing.
   */
  public record Status(
      long epoch,
      RingConfig config,
      String leader,
      Set<String> fillsDone,
      Set<String> awaitingFills,
      boolean proposing) {}

  /** The answer to an operator command: done with the epoch that did it, or refused and why. */
  public sealed interface OperatorReply {}

  public record OperatorDone(long epoch, String change) implements OperatorReply {}

  /** {@code reason} is "conflict" (409), "bad-request" (400) or "not-found" (404). */
  public record OperatorRefused(String reason, String message) implements OperatorReply {}

  private record SubscriberTerminated(ActorRef<RingSnapshot> subscriber) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  /**
   * The process stops after this node's decommission committed: an action, so tests can watch it.
   */
  public interface Stopper {
    void stop(String reason);
  }

  /**
   * Where the node's ring hears of members: it subscribes to {@code membership} itself, and tells
   * {@code addresses} of each member that is up before it looks at the event, so a member's address
   * is known before any ring can name it and a replica the ring names always resolves.
   */
  public record MemberFeed(
      ActorRef<MembershipActor.Command> membership, Consumer<Member> addresses) {}

  /**
   * What the ring reaches outside itself, so a test puts in-memory and probe versions in their
   * place.
   *
   * @param store where the agreement's state is kept across restarts
   * @param peers a peer's ring actor by member (see {@link #remotePeers})
   * @param stopper stops this node once its decommission is complete
   * @param wallClock wall-clock millis (retirements are compared with SWIM incarnations)
   */
  public record Environment(
      RingStateStore store,
      Function<RingMember, ActorRef<Command>> peers,
      Stopper stopper,
      LongSupplier wallClock) {}

  /**
   * @param self this node as configurations name it
   * @param view where each epoch is published; its settings (vnodes, N) shape every ring
   * @param settings removal delay, catch-up and proposal timing, founding, fill awaiting
   * @param environment its state store, peers, stopper and wall clock
   * @param feed the membership actor this ring subscribes to, and where it records addresses; null
   *     for a ring that hears of members only through {@link MemberEventReceived} (tests)
   */
  public static Behavior<Command> create(
      RingMember self,
      RingView view,
      RingSettings settings,
      Environment environment,
      MemberFeed feed) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new RingActor(context, timers, self, view, settings, environment, feed)));
  }

  /**
   * Hands a coordinator's "replica {@code node} is at later {@code epoch}" on to the ring as an
   * {@link Observed}, once per epoch: a burst of fenced requests asks one peer, not one per
   * request.
   *
   * @param addressOf a member's cluster address ({@code host:port}), or null when unknown
   */
  public static ReplicaHints hints(ActorRef<Command> ring, Function<String, String> addressOf) {
    LaterEpochs hinted = new LaterEpochs();
    return (epoch, node) -> {
      if (hinted.isNew(epoch)) {
        ring.tell(new Observed(epoch, addressOf.apply(node)));
      }
    };
  }

  /** What {@link #hints} returns: told that replica {@code node} answered from {@code epoch}. */
  @FunctionalInterface
  public interface ReplicaHints {
    void observed(long epoch, String node);
  }

  /**
   * Peers' ring actors at {@code akka://<system>@host:port/user/ring}, resolved once per address.
   */
  public static Function<RingMember, ActorRef<Command>> remotePeers(ActorSystem<?> system) {
    ActorRefResolver resolver = ActorRefResolver.get(system);
    Map<String, ActorRef<Command>> cache = new ConcurrentHashMap<>();
    return member ->
        cache.computeIfAbsent(
            member.clusterAddress(),
            address ->
                resolver.resolveActorRef("akka://" + system.name() + "@" + address + "/user/ring"));
  }

  private final RingMember self;
  private final RingView view;
  private final RingStateStore store;
  private final Function<RingMember, ActorRef<Command>> peers;
  private final Stopper stopper;
  private final LongSupplier wallClock;
  private final Consumer<Member> addresses;
  private final RingAgreement agreement;
  private final RingPolicy policy;
  private final int readQuorum;
  private final Set<ActorRef<RingSnapshot>> subscribers = new HashSet<>();
  private final Map<String, Member> swim = new TreeMap<>();
  private final Map<String, Long> downSince = new HashMap<>();
  private final Map<String, List<ActorRef<OperatorReply>>> forceRemovals = new TreeMap<>();
  private final List<ActorRef<OperatorReply>> decommissionWaiters = new ArrayList<>();
  private boolean decommissioning;
  private boolean stopped;

  /** Millis on the tick clock: ManualTime drives it in tests. */
  private long clock;

  private RingSnapshot snapshot;
  private Set<String> gainers = Set.of();

  private RingActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      RingMember self,
      RingView view,
      RingSettings settings,
      Environment environment,
      MemberFeed feed) {
    super(context);
    this.self = self;
    this.view = view;
    this.store = environment.store();
    this.peers = environment.peers();
    this.stopper = environment.stopper();
    this.wallClock = environment.wallClock();
    this.addresses = feed == null ? member -> {} : feed.addresses();
    this.policy = new RingPolicy(self.name(), settings.removalDelay.toMillis());
    this.readQuorum = settings.readQuorum;
    RingState restored = store.load();
    this.agreement = new RingAgreement(self, restored, settings.timing(), new Random());
    if (restored.epoch() > 0) {
      context
          .getLog()
          .info(
              "{} resumes at ring epoch {}: current {}, next {}",
              self.name(),
              restored.epoch(),
              restored.config().currentNames(),
              restored.config().nextNames());
      publish(restored.epoch(), restored.config());
    } else if (settings.foundCluster) {
      agreement.found();
    } else {
      context
          .getLog()
          .info(
              "{} has no ring state: in no ring until it catches up from a member of the cluster",
              self.name());
    }
    timers.startTimerWithFixedDelay(Tick.INSTANCE, RingSettings.TICK);
    flush();
    if (feed != null) {
      feed.membership()
          .tell(
              new MembershipActor.Subscribe(
                  context.messageAdapter(MemberEvent.class, MemberEventReceived::new)));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Peer.class, this::onPeer)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(MemberEventReceived.class, this::onMemberEventReceived)
        .onMessage(FillDone.class, this::onFillDone)
        .onMessage(Observed.class, this::onObserved)
        .onMessage(ForceRemove.class, this::onForceRemove)
        .onMessage(Decommission.class, this::onDecommission)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(SubscriberTerminated.class, this::onSubscriberTerminated)
        .build();
  }

  private Behavior<Command> onPeer(Peer peer) {
    agreement.receive(peer.message());
    flush();
    return this;
  }

  private Behavior<Command> onTick() {
    clock += RingSettings.TICK.toMillis();
    agreement.tick();
    decide();
    flush();
    publishFills();
    return this;
  }

  /** Keeps the view's fill reports current, for /cluster/ring and tests. */
  private void publishFills() {
    RingView.Fills now = new RingView.Fills(agreement.epoch(), gainers, agreement.fillsDone());
    if (!now.equals(view.fills())) {
      view.publishFills(now);
    }
  }

  /** Asks the policy what to propose and hands it to the agreement. */
  private void decide() {
    if (stopped) {
      return;
    }
    if (agreement.config() != null) {
      // a member SWIM has never reported (this node restarted while it was down) counts as down
      // from now: otherwise it would stay in the ring for good
      for (String name : agreement.config().memberNames()) {
        if (!name.equals(self.name()) && !swim.containsKey(name)) {
          downSince.putIfAbsent(name, clock);
        }
      }
    }
    Optional<RingConfig> proposal =
        policy.decide(
            new RingPolicy.Inputs(
                agreement.config(),
                swim,
                downSince,
                gainers,
                agreement.fillsDone(),
                barrierMet(),
                forceRemovals.keySet(),
                decommissioning,
                clock,
                wallClock.getAsLong()));
    if (proposal.isPresent()) {
      RingConfig wanted = agreement.proposal();
      if (wanted == null || !wanted.sameSets(proposal.get())) {
        getContext()
            .getLog()
            .debug(
                "{} proposes ring epoch {}: {}",
                self.name(),
                agreement.epoch() + 1,
                proposal.get().change());
      }
      agreement.propose(proposal.get());
    } else if (agreement.proposing()) {
      agreement.withdraw(); // nothing to do any more (e.g. another node got there first)
    }
  }

  /**
   * Whether the old replicas of every range that reported this epoch (every node reports it once
   * reads moved) leave too few behind to form a read quorum at an older epoch.
   */
  private boolean barrierMet() {
    return snapshot != null
        && snapshot.readsMoved()
        && RingTransition.barrierMet(snapshot.old(), agreement.fillsDone(), readQuorum);
  }

  private Behavior<Command> onMemberEventReceived(MemberEventReceived received) {
    MemberEvent event = received.event();
    Member member = event.member();
    if (member.isUp()) {
      addresses.accept(member); // before anything below can put the member on a ring
    }
    if (event instanceof MemberEvent.SelfRefuted || event instanceof MemberEvent.SelfAway) {
      return this;
    }
    swim.put(member.name(), member);
    if (member.status() == MemberStatus.DEAD || member.status() == MemberStatus.LEFT) {
      downSince.putIfAbsent(member.name(), clock);
    } else {
      downSince.remove(member.name());
    }
    List<RingMember> up = new ArrayList<>();
    List<String> upNames = new ArrayList<>();
    for (Member m : swim.values()) {
      if (m.isUp()) {
        up.add(new RingMember(m.name(), m.host(), m.clusterPort(), m.httpPort()));
        upNames.add(m.name());
      }
    }
    agreement.setPeers(up);
    agreement.setSeenUp(upNames);
    return this;
  }

  private Behavior<Command> onFillDone(FillDone done) {
    agreement.reportFillDone(done.epoch());
    flush();
    return this;
  }

  private Behavior<Command> onObserved(Observed observed) {
    RingMember from = null;
    if (observed.fromAddress() != null) {
      for (RingMember m : knownMembers()) {
        if (m.clusterAddress().equals(observed.fromAddress())
            || m.name().equals(observed.fromAddress())) {
          from = m;
        }
      }
    }
    agreement.observed(observed.epoch(), from);
    flush();
    return this;
  }

  private List<RingMember> knownMembers() {
    Map<String, RingMember> out = new TreeMap<>();
    for (Member m : swim.values()) {
      out.put(m.name(), new RingMember(m.name(), m.host(), m.clusterPort(), m.httpPort()));
    }
    if (agreement.config() != null) {
      agreement.config().allMembers().forEach(m -> out.put(m.name(), m));
    }
    return List.copyOf(out.values());
  }

  private Behavior<Command> onForceRemove(ForceRemove remove) {
    RingConfig config = agreement.config();
    Member seen = swim.get(remove.name());
    if (remove.name().equals(self.name())) {
      remove
          .replyTo()
          .tell(
              new OperatorRefused(
                  "bad-request",
                  "a node cannot force itself out; use POST /cluster/decommission on it"));
    } else if (config == null || !config.contains(remove.name())) {
      remove
          .replyTo()
          .tell(
              new OperatorRefused(
                  "not-found", remove.name() + " is in no set of ring epoch " + agreement.epoch()));
    } else if (seen != null && seen.status() == MemberStatus.ALIVE) {
      remove
          .replyTo()
          .tell(
              new OperatorRefused(
                  "conflict",
                  remove.name()
                      + " is ALIVE: decommission it instead, so its ranges move out first"));
    } else if (config.memberNames().size() == 1) {
      remove
          .replyTo()
          .tell(new OperatorRefused("conflict", "the ring cannot lose its last member"));
    } else {
      forceRemovals.computeIfAbsent(remove.name(), n -> new ArrayList<>()).add(remove.replyTo());
      decide();
      flush();
    }
    return this;
  }

  private Behavior<Command> onDecommission(Decommission decommission) {
    RingConfig config = agreement.config();
    if (config == null || !config.nextNames().contains(self.name())) {
      decommission
          .replyTo()
          .tell(
              new OperatorRefused(
                  "conflict",
                  self.name()
                      + " is not in the target ring of epoch "
                      + agreement.epoch()
                      + ": nothing to decommission"));
    } else if (config.nextNames().size() == 1) {
      decommission
          .replyTo()
          .tell(
              new OperatorRefused(
                  "conflict",
                  self.name() + " is the only member: its data would have nowhere to go"));
    } else {
      decommissioning = true;
      decommissionWaiters.add(decommission.replyTo());
      getContext().getLog().info("{} decommissioning: proposing a ring without it", self.name());
      decide();
      flush();
    }
    return this;
  }

  /** Persists, then publishes commits, then sends: nothing leaves before the state is durable. */
  private void flush() {
    RingAgreement.Ready ready = agreement.drain();
    if (ready.persist() != null) {
      store.save(ready.persist());
    }
    for (String conflict : ready.conflicts()) {
      getContext().getLog().error("ring agreement violated: {}", conflict);
    }
    for (RingAgreement.Commit commit : ready.commits()) {
      onCommitted(commit);
    }
    for (RingAgreement.Veto veto : ready.vetoes()) {
      onVetoed(veto);
    }
    for (RingAgreement.Outgoing out : ready.messages()) {
      ActorRef<Command> peer = peers.apply(out.to());
      if (peer != null) {
        peer.tell(new Peer(out.message()));
      }
    }
  }

  /**
   * A removal this node proposed was withdrawn because acceptors still see the member up (a
   * partition healing faster on their side of it than on this node's): the member's removal delay
   * starts again, as if SWIM had just reported it down, and other changes are proposed meanwhile.
   */
  private void onVetoed(RingAgreement.Veto veto) {
    for (String name : veto.seenUpBy().keySet()) {
      downSince.replace(name, clock); // only members still down here
    }
    getContext()
        .getLog()
        .info(
            "{} withdrew its proposal for ring epoch {} ({}): seen up by {}; their removal delay"
                + " starts again",
            self.name(),
            veto.slot(),
            veto.wanted().change(),
            veto.seenUpBy());
  }

  private void onCommitted(RingAgreement.Commit commit) {
    RingConfig config = commit.config();
    RingSnapshot before = snapshot;
    publish(commit.epoch(), config);
    // a transition: how much of the token space changes replica set; a stable epoch: how much
    // changed read replicas against the epoch before
    double moved =
        snapshot.inTransition()
            ? HashRing.movedFraction(snapshot.ring(), snapshot.next())
            : before == null ? 0.0 : HashRing.movedFraction(before.ring(), snapshot.ring());
    getContext()
        .getLog()
        .info(
            "ring epoch {}: {} (proposed by {}{}): current {}, next {}, {}% of token space {}",
            commit.epoch(),
            config.change(),
            config.proposer(),
            commit.proposedHere() ? ", decided here" : "",
            config.currentNames(),
            config.nextNames(),
            percent(moved),
            snapshot.inTransition() ? "in transition" : "changed read replicas");
    if (config.change().startsWith("force-removed")) {
      getContext()
          .getLog()
          .warn(
              "ring epoch {}: {} by an operator: ranges only they held are lost",
              commit.epoch(),
              config.change());
    }
    answerOperators(commit.epoch(), config);
  }

  private void answerOperators(long epoch, RingConfig config) {
    forceRemovals
        .entrySet()
        .removeIf(
            entry -> {
              if (config.contains(entry.getKey())) {
                return false;
              }
              entry.getValue().forEach(r -> r.tell(new OperatorDone(epoch, config.change())));
              return true;
            });
    if (decommissioning && !config.nextNames().contains(self.name())) {
      decommissionWaiters.forEach(r -> r.tell(new OperatorDone(epoch, config.change())));
      decommissionWaiters.clear();
      if (!config.contains(self.name()) && !stopped) {
        stopped = true;
        getContext()
            .getLog()
            .info(
                "{} decommissioned: ring epoch {} no longer holds it; stopping",
                self.name(),
                epoch);
        stopper.stop(self.name() + " decommissioned at ring epoch " + epoch);
      }
    }
  }

  private void publish(long epoch, RingConfig config) {
    if (epoch <= view.current().epoch()) {
      return;
    }
    HashRing empty = view.ring();
    HashRing current =
        HashRing.of(config.currentNames(), empty.vnodes(), empty.replicationFactor());
    HashRing next =
        config.inTransition()
            ? HashRing.of(config.nextNames(), empty.vnodes(), empty.replicationFactor())
            : current;
    snapshot = new RingSnapshot(epoch, current, next, config.readsMoved());
    gainers = RingPolicy.gainers(current, next);
    view.publish(snapshot);
    for (ActorRef<RingSnapshot> subscriber : subscribers) {
      subscriber.tell(snapshot);
    }
  }

  private static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.1f", fraction * 100);
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    RingConfig config = agreement.config();
    Set<String> done = agreement.fillsDone();
    Set<String> awaiting = new java.util.TreeSet<>(gainers);
    awaiting.removeAll(done);
    get.replyTo()
        .tell(
            new Status(
                agreement.epoch(),
                config,
                config == null ? null : policy.leader(config, swim),
                done,
                awaiting,
                agreement.proposing()));
    return this;
  }

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    if (subscribers.add(subscribe.subscriber())) {
      getContext()
          .watchWith(subscribe.subscriber(), new SubscriberTerminated(subscribe.subscriber()));
    }
    if (snapshot != null) {
      subscribe.subscriber().tell(snapshot);
    }
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe unsubscribe) {
    if (subscribers.remove(unsubscribe.subscriber())) {
      getContext().unwatch(unsubscribe.subscriber());
    }
    return this;
  }

  private Behavior<Command> onSubscriberTerminated(SubscriberTerminated terminated) {
    subscribers.remove(terminated.subscriber());
    return this;
  }
}
