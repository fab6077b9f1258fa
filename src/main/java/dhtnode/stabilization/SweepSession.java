package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.keyspace.TokenRange;
import dhtnode.storage.StorageActor;

/**
 * One {@link Stabilizer.Drop}: deletes a range from local storage one batch at a time (each a
 * {@link StorageActor.Sweep}), so requests keep being served between batches. Replies once with
 * {@link Stabilizer.DropDone} and stops.
 */
final class SweepSession extends AbstractBehavior<SweepSession.Command> {

  sealed interface Command {}

  private record Swept(StorageActor.Reply reply, Throwable failure) implements Command {}

  static Behavior<Command> create(
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      TokenRange range,
      ActorRef<Stabilizer.DropDone> replyTo) {
    return Behaviors.setup(context -> new SweepSession(context, storage, settings, range, replyTo));
  }

  private final ActorRef<StorageActor.Command> storage;
  private final StabilizerSettings settings;
  private final TokenRange range;
  private final ActorRef<Stabilizer.DropDone> replyTo;
  private long deleted;

  private SweepSession(
      ActorContext<Command> context,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      TokenRange range,
      ActorRef<Stabilizer.DropDone> replyTo) {
    super(context);
    this.storage = storage;
    this.settings = settings;
    this.range = range;
    this.replyTo = replyTo;
    sweepAfter(null);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Swept.class, this::onSwept).build();
  }

  private void sweepAfter(String afterKey) {
    getContext()
        .ask(
            StorageActor.Reply.class,
            storage,
            settings.stepTimeout,
            ref -> new StorageActor.Sweep(range, afterKey, settings.batchSize, ref),
            Swept::new);
  }

  private Behavior<Command> onSwept(Swept swept) {
    if (!(swept.reply() instanceof StorageActor.Swept batch)) {
      String reason = swept.failure() != null ? "timed out" : String.valueOf(swept.reply());
      replyTo.tell(new Stabilizer.DropDone(range, deleted, false, reason));
      return Behaviors.stopped();
    }
    deleted += batch.deleted();
    if (batch.complete()) {
      replyTo.tell(new Stabilizer.DropDone(range, deleted, true, null));
      return Behaviors.stopped();
    }
    sweepAfter(batch.lastKey());
    return this;
  }
}
