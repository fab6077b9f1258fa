package dhtnode.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.storage.HybridClock;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps a reserving {@link HybridClock}'s reservation ahead of it: writes the next reservation
 * durably ({@link ClockFile}) and only then lets the clock issue timestamps up to it, so no
 * timestamp is ever issued that a restart could issue again. It checks on a timer whether the
 * reservation is due (less than half of {@code reserve-ahead} left), and a coordinator whose stamp
 * found the reservation exhausted (a peer far ahead pushed the clock past it, or a write stalled)
 * asks with {@link Reserve} and is answered once the reservation covers it. It does blocking file
 * I/O, so it must run on a dispatcher meant for that (the guardian spawns it on Akka's blocking-I/O
 * dispatcher); coordinators never wait on it in the common case.
 */
public final class ClockKeeper extends AbstractBehavior<ClockKeeper.Command> {

  public sealed interface Command {}

  /** A stamp found the reservation exhausted: answer {@link Reserved} once it is extended. */
  public record Reserve(ActorRef<Reserved> replyTo) implements Command {}

  /** The reservation was extended: try stamping again. */
  public enum Reserved {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  /** Where a keeper writes its reservations: a {@link ClockFile}, or a fake in tests. */
  @FunctionalInterface
  public interface Store {
    void write(long upTo) throws IOException;
  }

  /**
   * @param clock a reserving clock, already {@link HybridClock#restore restored} from the store
   * @param store where each reservation is made durable before the clock may use it
   * @param checkInterval how often to check whether the reservation is due
   */
  public static Behavior<Command> create(HybridClock clock, Store store, Duration checkInterval) {
    if (!clock.isReserving()) {
      throw new IllegalArgumentException("the clock reserves nothing: it needs no keeper");
    }
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Tick.INSTANCE, checkInterval);
                  ClockKeeper keeper = new ClockKeeper(context, clock, store);
                  keeper.extend(); // the first stamp of this run needs a reservation above the
                  // restored one
                  return keeper;
                }));
  }

  private final HybridClock clock;
  private final Store store;
  private final List<ActorRef<Reserved>> waiting = new ArrayList<>();

  /** The last write failed: logged once, then again only when it recovers. */
  private boolean failing;

  private ClockKeeper(ActorContext<Command> context, HybridClock clock, Store store) {
    super(context);
    this.clock = clock;
    this.store = store;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Reserve.class, this::onReserve)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .build();
  }

  private Behavior<Command> onReserve(Reserve reserve) {
    waiting.add(reserve.replyTo());
    if (clock.reservationDue()) {
      extend();
    } else {
      answerWaiting(); // extended meanwhile: the stamp can be tried again
    }
    return this;
  }

  private Behavior<Command> onTick() {
    if (clock.reservationDue()) {
      extend();
    }
    return this;
  }

  /** Writes the next reservation; only once it is durable may the clock issue up to it. */
  private void extend() {
    long upTo = clock.nextReservation();
    try {
      store.write(upTo);
    } catch (IOException e) {
      if (!failing) {
        getContext()
            .getLog()
            .error(
                "cannot write the clock reservation: {}; writes through this node "
                    + "wait (and time out) until it can",
                e.toString());
      }
      failing = true;
      return; // the waiting stay waiting; the next tick tries again
    }
    if (failing) {
      getContext().getLog().info("clock reservation written again");
      failing = false;
    }
    clock.reserved(upTo);
    if (getContext().getLog().isDebugEnabled()) {
      getContext()
          .getLog()
          .debug(
              "clock reserved up to {} ms ({} ms ahead of the wall clock)",
              HybridClock.millisOf(upTo),
              HybridClock.millisOf(upTo) - clock.wallMillis());
    }
    answerWaiting();
  }

  private void answerWaiting() {
    for (ActorRef<Reserved> w : waiting) {
      w.tell(Reserved.INSTANCE);
    }
    waiting.clear();
  }
}
