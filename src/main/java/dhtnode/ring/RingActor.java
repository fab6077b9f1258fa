package dhtnode.ring;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.membership.MemberEvent;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Owns this node's ring: turns membership events into immutable {@link HashRing}s. ALIVE and
 * SUSPECT members are on the ring (a suspect may still answer, and dropping it would move data
 * on every false alarm); DEAD and LEFT members are not. Each event that changes the member set
 * yields a ring with the next epoch, one INFO line, a publish to the {@link RingView} and a
 * message to every subscriber; events that change nothing (a member suspected while on the ring,
 * a repeated join) leave the epoch alone. The first ring, epoch 1, holds only this node.
 */
public final class RingActor extends AbstractBehavior<RingActor.Command> {

  public sealed interface Command {}

  /** A membership event, adapted by the node's guardian from the membership actor. */
  public record MemberEventReceived(MemberEvent event) implements Command {}

  /** Tells {@code subscriber} the current snapshot now and every new one after. */
  public record Subscribe(ActorRef<RingSnapshot> subscriber) implements Command {}

  public record Unsubscribe(ActorRef<RingSnapshot> subscriber) implements Command {}

  private record SubscriberTerminated(ActorRef<RingSnapshot> subscriber) implements Command {}

  /**
   * @param selfName this node's name: the only member of the first ring
   * @param view where each ring is published; its settings (vnodes, N) shape every ring
   */
  public static Behavior<Command> create(String selfName, RingView view) {
    return Behaviors.setup(context -> new RingActor(context, selfName, view));
  }

  private final RingView view;
  private final Set<ActorRef<RingSnapshot>> subscribers = new HashSet<>();
  private RingSnapshot current;

  private RingActor(ActorContext<Command> context, String selfName, RingView view) {
    super(context);
    this.view = view;
    HashRing empty = view.ring();
    RingSnapshot first = new RingSnapshot(view.current().epoch() + 1,
        HashRing.of(Set.of(selfName), empty.vnodes(), empty.replicationFactor()));
    publish(first, selfName + " started");
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(MemberEventReceived.class, this::onMemberEventReceived)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(SubscriberTerminated.class, this::onSubscriberTerminated)
        .build();
  }

  private Behavior<Command> onMemberEventReceived(MemberEventReceived received) {
    MemberEvent event = received.event();
    String name = event.member().name();
    boolean onRing = isOnRing(event);
    Set<String> members = new TreeSet<>(current.ring().members());
    boolean changed = onRing ? members.add(name) : members.remove(name);
    if (!changed) {
      getContext().getLog().debug("ring epoch {} unchanged by {}", current.epoch(), event);
      return this;
    }
    HashRing ring = current.ring();
    HashRing next = HashRing.of(members, ring.vnodes(), ring.replicationFactor());
    publish(new RingSnapshot(current.epoch() + 1, next), name + " " + verb(event));
    return this;
  }

  private static boolean isOnRing(MemberEvent event) {
    return !(event instanceof MemberEvent.MemberDied || event instanceof MemberEvent.MemberLeft);
  }

  private static String verb(MemberEvent event) {
    if (event instanceof MemberEvent.MemberJoined) {
      return "joined";
    } else if (event instanceof MemberEvent.MemberSuspected) {
      return "suspected";
    } else if (event instanceof MemberEvent.MemberAlive) {
      return "alive";
    } else if (event instanceof MemberEvent.MemberDied) {
      return "died";
    }
    return "left";
  }

  private void publish(RingSnapshot next, String why) {
    HashRing before = current == null ? view.ring() : current.ring();
    current = next;
    view.publish(next);
    // both measures: replica sets say how much data moves, primaries how many keys change coordinator
    getContext().getLog().info("ring epoch {}: {} ({}, {}% of token space moved, {}% changed primary)",
        next.epoch(), next.ring().members(), why,
        percent(HashRing.movedFraction(before, next.ring())),
        percent(HashRing.primaryMovedFraction(before, next.ring())));
    for (ActorRef<RingSnapshot> subscriber : subscribers) {
      subscriber.tell(next);
    }
  }

  private static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.1f", fraction * 100);
  }

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    if (subscribers.add(subscribe.subscriber())) {
      getContext().watchWith(subscribe.subscriber(), new SubscriberTerminated(subscribe.subscriber()));
    }
    subscribe.subscriber().tell(current);
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
