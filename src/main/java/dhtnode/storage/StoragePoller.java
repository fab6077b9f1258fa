package dhtnode.storage;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dhtnode.metrics.Metrics;
import java.time.Duration;

/**
 * Keeps the storage gauges of {@link Metrics} fresh: asks the {@link StorageActor} for {@code
 * GetStats} now and every {@code interval}, and stores the answer. A scrape then reads two atomics
 * instead of asking (and waiting for) storage, which may be busy with a write burst. An unanswered
 * ask leaves the last figures in place; the next tick tries again.
 */
public final class StoragePoller extends AbstractBehavior<StoragePoller.Command> {

  public sealed interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record Answered(StorageActor.Reply reply) implements Command {}

  public static Behavior<Command> create(
      ActorRef<StorageActor.Command> storage, Metrics metrics, Duration interval) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new StoragePoller(context, timers, storage, metrics, interval)));
  }

  private final ActorRef<StorageActor.Command> storage;
  private final Metrics metrics;
  private final Duration interval;

  private StoragePoller(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<StorageActor.Command> storage,
      Metrics metrics,
      Duration interval) {
    super(context);
    this.storage = storage;
    this.metrics = metrics;
    this.interval = interval;
    timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ZERO, interval);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Answered.class, this::onAnswered)
        .build();
  }

  private Behavior<Command> onTick() {
    getContext()
        .ask(
            StorageActor.Reply.class,
            storage,
            interval,
            StorageActor.GetStats::new,
            (reply, failure) -> new Answered(reply));
    return this;
  }

  private Behavior<Command> onAnswered(Answered answered) {
    if (answered.reply() instanceof StorageActor.Stats stats) {
      metrics.storage(stats.keys(), stats.sizeBytes());
    }
    return this;
  }
}
