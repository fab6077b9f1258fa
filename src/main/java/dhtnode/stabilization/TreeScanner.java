package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.keyspace.TokenRange;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StoredEntry;
import java.time.Duration;
import java.util.List;

/**
 * Builds this node's {@link MerkleTree} of one range by scanning local storage in batches (one scan
 * in flight at a time, each with a timeout, so storage keeps serving requests in between), answers
 * once with {@link Stabilizer.TreeBuilt} or {@link Stabilizer.PeerFailed}, and stops. Tombstones
 * are hashed like values: a replica missing a delete differs.
 */
final class TreeScanner extends AbstractBehavior<TreeScanner.Command> {

  sealed interface Command {}

  private record Scanned(StorageActor.Reply reply, Throwable failure) implements Command {}

  static Behavior<Command> create(
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      TokenRange range,
      int depth,
      ActorRef<Stabilizer.PeerReply> replyTo) {
    return Behaviors.setup(
        context -> new TreeScanner(context, storage, settings, range, depth, replyTo));
  }

  private final ActorRef<StorageActor.Command> storage;
  private final TokenRange range;
  private final int depth;
  private final int batchSize;
  private final Duration stepTimeout;
  private final ActorRef<Stabilizer.PeerReply> replyTo;
  private final MerkleTree.Builder builder;
  private long entries;

  private TreeScanner(
      ActorContext<Command> context,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      TokenRange range,
      int depth,
      ActorRef<Stabilizer.PeerReply> replyTo) {
    super(context);
    this.storage = storage;
    this.range = range;
    this.depth = depth;
    this.batchSize = settings.batchSize;
    this.stepTimeout = settings.stepTimeout;
    this.replyTo = replyTo;
    this.builder = MerkleTree.builder(range, depth);
    scan(null);
  }

  private void scan(String afterKey) {
    getContext()
        .ask(
            StorageActor.Reply.class,
            storage,
            stepTimeout,
            ref -> new StorageActor.Scan(range, afterKey, batchSize, ref),
            Scanned::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Scanned.class, this::onScanned).build();
  }

  private Behavior<Command> onScanned(Scanned scanned) {
    if (!(scanned.reply() instanceof StorageActor.ScanResult result)) {
      String reason =
          scanned.failure() != null
              ? "scan timed out: " + scanned.failure().getMessage()
              : "scan failed: " + scanned.reply();
      replyTo.tell(new Stabilizer.PeerFailed("Merkle tree of " + range + ": " + reason));
      return Behaviors.stopped();
    }
    List<StoredEntry> batch = result.entries();
    for (StoredEntry e : batch) {
      builder.add(e.token(), MerkleTree.entryHash(e.key(), e.value()));
    }
    entries += batch.size();
    if (!result.complete() && !batch.isEmpty()) {
      scan(batch.get(batch.size() - 1).key());
      return this;
    }
    MerkleTree tree = builder.build();
    getContext().getLog().debug("Merkle tree of {} at depth {}: {} entries", range, depth, entries);
    replyTo.tell(new Stabilizer.TreeBuilt(range, depth, tree.hashes()));
    return Behaviors.stopped();
  }
}
