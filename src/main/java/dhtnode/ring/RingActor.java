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
 *
 * <p>Keep-majority (as Akka's split-brain resolver): a DEAD member leaves the ring only while this
 * node still reaches a majority of the ring's members (neither dead nor suspect). On the minority side of a partition the dead
 * are kept, so quorum requests there fail with 503 instead of writing to a shrunken ring that
 * would diverge; when they come back they are simply still there. LEFT is deliberate and always
 * applied.
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
  /** Members declared DEAD but kept on the ring because too few others are reachable. */
  private final Set<String> deadKept = new TreeSet<>();
  /**
   * Members currently suspected: not yet off the ring, but not counted as reachable either, so
   * that a partition (which makes the other side suspect all at once) is judged as a whole, not
   * one death at a time.
   */
  private final Set<String> suspects = new TreeSet<>();
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
    if (event instanceof MemberEvent.MemberSuspected) {
      suspects.add(name);
    } else {
      suspects.remove(name);
    }
    if (onRing && deadKept.remove(name)) {
      getContext().getLog().info("{} is reachable again; it never left ring epoch {}", name, current.epoch());
      return this;
    }
    if (event instanceof MemberEvent.MemberDied && members.contains(name)) {
      Set<String> reachable = new TreeSet<>(members);
      reachable.removeAll(deadKept);
      reachable.removeAll(suspects);
      reachable.remove(name);
      if (reachable.size() * 2 <= members.size()) {
        deadKept.add(name);
        getContext().getLog().info(
            "keeping {} on ring epoch {}: only {} of its {} members are reachable, a minority",
            name, current.epoch(), reachable.size(), members.size());
        return this;
      }
      members.removeAll(deadKept); // a majority: the dead kept so far go too
      members.remove(name);
      deadKept.clear();
    }
    if (event instanceof MemberEvent.MemberLeft) {
      deadKept.remove(name);
    }
    if (onRing) {
      members.add(name);
    } else {
      members.remove(name);
    }
    boolean changed = !members.equals(new TreeSet<>(current.ring().members()));
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
