package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.storage.StorageActor;
import java.time.Duration;
import java.util.function.BiFunction;

/**
 * The frame shared by the short-lived actors that send local storage one message per item of a
 * batch ({@link BatchApplier}, {@link KeyBatch}): every reply comes back through one adapter, one
 * timer bounds the whole batch, and the subclass answers once and stops. Subclasses say what is
 * sent and how each reply counts.
 */
abstract class StorageBatch extends AbstractBehavior<StorageBatch.Command> {

  sealed interface Command {}

  /** A storage reply; null when a batch with nothing to send wakes itself to answer. */
  record Stored(StorageActor.Reply reply) implements Command {}

  private enum TimedOut implements Command {
    INSTANCE
  }

  /**
   * Starts the batch's timer and builds it with the adapter its storage messages must carry; the
   * builder sends them.
   */
  static Behavior<Command> start(
      Duration timeout,
      BiFunction<ActorContext<Command>, ActorRef<StorageActor.Reply>, StorageBatch> build) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  timers.startSingleTimer(TimedOut.INSTANCE, timeout);
                  return build.apply(
                      context, context.messageAdapter(StorageActor.Reply.class, Stored::new));
                }));
  }

  StorageBatch(ActorContext<Command> context) {
    super(context);
  }

  @Override
  public final Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Stored.class, this::onStored)
        .onMessageEquals(TimedOut.INSTANCE, this::onTimedOut)
        .build();
  }

  abstract Behavior<Command> onStored(Stored stored);

  abstract Behavior<Command> onTimedOut();
}
