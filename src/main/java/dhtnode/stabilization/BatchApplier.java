package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StoredEntry;
import java.time.Duration;
import java.util.List;

/**
 * Writes one batch of entries into local storage and answers once, when every put is acknowledged
 * ({@link Stabilizer.EntriesApplied}), on the first storage failure or when the timeout passes
 * ({@link Stabilizer.PeerFailed}); then stops. Puts are last-writer-wins, so applying the same
 * batch twice is harmless.
 */
final class BatchApplier extends StorageBatch {

  static Behavior<Command> create(
      ActorRef<StorageActor.Command> storage,
      List<StoredEntry> entries,
      Duration timeout,
      ActorRef<Stabilizer.PeerReply> replyTo) {
    if (entries.isEmpty()) {
      return Behaviors.setup(
          context -> {
            replyTo.tell(new Stabilizer.EntriesApplied(0, 0, 0));
            return Behaviors.stopped();
          });
    }
    return start(
        timeout,
        (context, adapter) -> new BatchApplier(context, storage, entries, adapter, replyTo));
  }

  private final ActorRef<Stabilizer.PeerReply> replyTo;
  private final int expected;
  private final long bytes;
  private int acknowledged;
  private int applied;

  private BatchApplier(
      ActorContext<Command> context,
      ActorRef<StorageActor.Command> storage,
      List<StoredEntry> entries,
      ActorRef<StorageActor.Reply> adapter,
      ActorRef<Stabilizer.PeerReply> replyTo) {
    super(context);
    this.replyTo = replyTo;
    this.expected = entries.size();
    this.bytes = entries.stream().mapToLong(Batches::sizeOf).sum();
    for (StoredEntry e : entries) {
      storage.tell(new StorageActor.Apply(e.key(), e.value(), adapter));
    }
  }

  @Override
  Behavior<Command> onStored(Stored stored) {
    if (stored.reply() instanceof StorageActor.WriteResult result) {
      acknowledged++;
      if (result.applied()) {
        applied++;
      }
    } else {
      replyTo.tell(new Stabilizer.PeerFailed("storage refused a put: " + stored.reply()));
      return Behaviors.stopped();
    }
    return done();
  }

  private Behavior<Command> done() {
    if (acknowledged < expected) {
      return this;
    }
    replyTo.tell(new Stabilizer.EntriesApplied(expected, applied, bytes));
    return Behaviors.stopped();
  }

  @Override
  Behavior<Command> onTimedOut() {
    replyTo.tell(
        new Stabilizer.PeerFailed(
            "storage acknowledged " + acknowledged + " of " + expected + " puts in time"));
    return Behaviors.stopped();
  }
}
