package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import dhtnode.storage.StorageActor;
import dhtnode.storage.Version;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Serves a peer's tombstone collection from local storage: either the versions stored for a list of
 * keys ({@link Stabilizer.VersionsOf}, null for a key this node does not hold or cannot answer for,
 * e.g. while pending), or the purge of exactly the given versions ({@link
 * Stabilizer.EntriesPurged}). One storage message per key; replies once, or with {@link
 * Stabilizer.PeerFailed} if storage does not answer every key in time.
 */
final class KeyBatch extends StorageBatch {

  /**
   * The stored versions of {@code keys}, read at ring {@code epoch} (the node's, checked by the
   * caller).
   */
  static Behavior<Command> versions(
      ActorRef<StorageActor.Command> storage,
      List<String> keys,
      long epoch,
      Duration timeout,
      ActorRef<Stabilizer.PeerReply> replyTo) {
    return start(
        timeout,
        (context, adapter) -> {
          keys.forEach(key -> storage.tell(new StorageActor.Get(key, epoch, 0, adapter)));
          return new KeyBatch(context, keys, false, replyTo);
        });
  }

  static Behavior<Command> purge(
      ActorRef<StorageActor.Command> storage,
      List<Stabilizer.KeyVersion> entries,
      Duration timeout,
      ActorRef<Stabilizer.PeerReply> replyTo) {
    return start(
        timeout,
        (context, adapter) -> {
          entries.forEach(e -> storage.tell(new StorageActor.Purge(e.key(), e.version(), adapter)));
          return new KeyBatch(
              context, entries.stream().map(Stabilizer.KeyVersion::key).toList(), true, replyTo);
        });
  }

  private final List<String> keys;
  private final boolean purging;
  private final ActorRef<Stabilizer.PeerReply> replyTo;
  private final Map<String, Version> versions = new HashMap<>();
  private int answered;
  private int purged;

  private KeyBatch(
      ActorContext<Command> context,
      List<String> keys,
      boolean purging,
      ActorRef<Stabilizer.PeerReply> replyTo) {
    super(context);
    this.keys = keys;
    this.purging = purging;
    this.replyTo = replyTo;
    if (keys.isEmpty()) {
      context.getSelf().tell(new Stored(null));
    }
  }

  @Override
  Behavior<Command> onStored(Stored stored) {
    if (stored.reply() instanceof StorageActor.ReadResult read && read.value() != null) {
      versions.put(read.key(), read.value().version());
    } else if (stored.reply() instanceof StorageActor.PurgeResult result && result.purged()) {
      purged++;
    }
    if (stored.reply() != null) {
      answered++;
    }
    if (answered < keys.size()) {
      return this;
    }
    if (purging) {
      replyTo.tell(new Stabilizer.EntriesPurged(purged));
    } else {
      List<Version> out = new ArrayList<>(keys.size());
      keys.forEach(k -> out.add(versions.get(k)));
      replyTo.tell(new Stabilizer.VersionsOf(out));
    }
    return Behaviors.stopped();
  }

  @Override
  Behavior<Command> onTimedOut() {
    replyTo.tell(
        new Stabilizer.PeerFailed(
            "storage answered " + answered + " of " + keys.size() + " keys in time"));
    return Behaviors.stopped();
  }
}
