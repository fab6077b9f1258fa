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
import java.util.ArrayList;
import java.util.List;

/**
 * One {@link Stabilizer.Repair}: anti-entropy of one range with one peer. Both sides build a Merkle
 * tree of the range from their storage (in parallel); then, one differing leaf at a time, this
 * session reads the leaf's entries from local storage and from the peer (in batches), and sends
 * each side what it lacks or holds older ({@link Reconciliation}): pulled entries are put locally,
 * pushed ones go to the peer as {@link Stabilizer.ApplyEntries}. Only keys of differing leaves
 * move, and at most one leaf's entries are held at a time. Every step has a timeout; the first
 * failure ends the session. Replies once with {@link Stabilizer.RepairDone} and stops.
 */
final class RepairSession extends AbstractBehavior<RepairSession.Command> {

  sealed interface Command {}

  /** Replies of this node's own helpers (tree scanner, batch applier). */
  private record Local(Stabilizer.PeerReply reply) implements Command {}

  private record PeerAnswered(Stabilizer.PeerReply reply, Throwable failure) implements Command {}

  private record LocalScanned(StorageActor.Reply reply, Throwable failure) implements Command {}

  private enum Phase {
    TREES,
    SCAN_LOCAL,
    SCAN_PEER,
    PULL,
    PUSH
  }

  static Behavior<Command> create(
      String nodeName,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      Stabilizer.Repair repair) {
    return Behaviors.setup(
        context -> new RepairSession(context, nodeName, storage, settings, repair));
  }

  private final String nodeName;
  private final ActorRef<StorageActor.Command> storage;
  private final StabilizerSettings settings;
  private final TokenRange range;
  private final String peerName;
  private final ActorRef<Stabilizer.Command> peer;

  /** The ring epoch both sides must be at: the peer serves nothing at another. */
  private final long epoch;

  private final ActorRef<Stabilizer.RepairDone> replyTo;
  private final ActorRef<Stabilizer.PeerReply> localAdapter;

  private Phase phase = Phase.TREES;
  private MerkleTree localTree;
  private MerkleTree peerTree;
  private List<TokenRange> leaves = List.of();
  private int leafIndex;
  private final List<StoredEntry> localEntries = new ArrayList<>();
  private final List<StoredEntry> peerEntries = new ArrayList<>();
  private List<StoredEntry> toPush = List.of();
  private int pushedUpTo;
  private long pulled;
  private long pushed;

  private RepairSession(
      ActorContext<Command> context,
      String nodeName,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      Stabilizer.Repair repair) {
    super(context);
    this.epoch = repair.epoch();
    this.nodeName = nodeName;
    this.storage = storage;
    this.settings = settings;
    this.range = repair.range();
    this.peerName = repair.peerName();
    this.peer = repair.peer();
    this.replyTo = repair.replyTo();
    this.localAdapter = context.messageAdapter(Stabilizer.PeerReply.class, Local::new);
    context.spawn(
        TreeScanner.create(storage, settings, range, settings.merkleDepth, localAdapter), "tree");
    context.ask(
        Stabilizer.PeerReply.class,
        peer,
        settings.treeTimeout,
        ref -> new Stabilizer.GetTree(range, settings.merkleDepth, epoch, ref),
        PeerAnswered::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Local.class, this::onLocal)
        .onMessage(PeerAnswered.class, this::onPeerAnswered)
        .onMessage(LocalScanned.class, this::onLocalScanned)
        .build();
  }

  private Behavior<Command> onLocal(Local local) {
    if (local.reply() instanceof Stabilizer.PeerFailed failed) {
      return finish(false, "local " + failed.reason());
    }
    if (phase == Phase.TREES && local.reply() instanceof Stabilizer.TreeBuilt tree) {
      localTree = MerkleTree.of(tree.range(), tree.depth(), tree.hashes());
      return compareWhenBothTrees();
    }
    if (phase == Phase.PULL && local.reply() instanceof Stabilizer.EntriesApplied applied) {
      pulled += applied.received();
      return pushNext();
    }
    return finish(false, "unexpected local reply in phase " + phase + ": " + local.reply());
  }

  private Behavior<Command> onPeerAnswered(PeerAnswered answered) {
    Stabilizer.PeerReply reply = answered.reply();
    if (reply == null || reply instanceof Stabilizer.PeerFailed) {
      String reason =
          reply == null
              ? "no answer in time (" + answered.failure().getMessage() + ")"
              : reply.toString();
      return finish(false, "peer " + peerName + " in phase " + phase + ": " + reason);
    }
    if (phase == Phase.TREES && reply instanceof Stabilizer.TreeBuilt tree) {
      if (!tree.range().equals(range) || tree.depth() != settings.merkleDepth) {
        return finish(
            false,
            "peer " + peerName + " sent a tree of " + tree.range() + " at depth " + tree.depth());
      }
      try {
        peerTree = MerkleTree.of(tree.range(), tree.depth(), tree.hashes());
      } catch (IllegalArgumentException e) {
        return finish(false, "peer " + peerName + " sent a malformed tree: " + e.getMessage());
      }
      return compareWhenBothTrees();
    }
    if (phase == Phase.SCAN_PEER && reply instanceof Stabilizer.Batch batch) {
      peerEntries.addAll(batch.entries());
      if (!batch.complete() && !batch.entries().isEmpty()) {
        askPeerBatch(last(batch.entries()));
        return this;
      }
      return reconcileLeaf();
    }
    if (phase == Phase.PUSH && reply instanceof Stabilizer.EntriesApplied applied) {
      pushed += applied.received();
      return pushNext();
    }
    return finish(false, "unexpected reply from " + peerName + " in phase " + phase + ": " + reply);
  }

  private Behavior<Command> compareWhenBothTrees() {
    if (localTree == null || peerTree == null) {
      return this;
    }
    leaves = localTree.differingLeaves(peerTree);
    getContext()
        .getLog()
        .debug(
            "repair of {} with {}: {} of {} leaves differ",
            range,
            peerName,
            leaves.size(),
            localTree.leafCount());
    leafIndex = -1;
    return nextLeaf();
  }

  private Behavior<Command> nextLeaf() {
    leafIndex++;
    if (leafIndex >= leaves.size()) {
      return finish(true, null);
    }
    localEntries.clear();
    peerEntries.clear();
    phase = Phase.SCAN_LOCAL;
    scanLocal(null);
    return this;
  }

  private void scanLocal(String afterKey) {
    TokenRange leaf = leaves.get(leafIndex);
    getContext()
        .ask(
            StorageActor.Reply.class,
            storage,
            settings.stepTimeout,
            ref -> new StorageActor.Scan(leaf, afterKey, settings.batchSize, ref),
            LocalScanned::new);
  }

  private void askPeerBatch(String afterKey) {
    TokenRange leaf = leaves.get(leafIndex);
    getContext()
        .ask(
            Stabilizer.PeerReply.class,
            peer,
            settings.stepTimeout,
            ref -> new Stabilizer.GetBatch(leaf, afterKey, settings.batchSize, epoch, ref),
            PeerAnswered::new);
  }

  private Behavior<Command> onLocalScanned(LocalScanned scanned) {
    if (!(scanned.reply() instanceof StorageActor.ScanResult result)) {
      String reason = scanned.failure() != null ? "timed out" : String.valueOf(scanned.reply());
      return finish(false, "local scan of " + leaves.get(leafIndex) + ": " + reason);
    }
    localEntries.addAll(result.entries());
    if (!result.complete() && !result.entries().isEmpty()) {
      scanLocal(last(result.entries()));
      return this;
    }
    phase = Phase.SCAN_PEER;
    askPeerBatch(null);
    return this;
  }

  private Behavior<Command> reconcileLeaf() {
    Reconciliation r = Reconciliation.of(localEntries, peerEntries);
    getContext()
        .getLog()
        .debug(
            "repair of {} with {}: leaf {} holds {} local, {} remote; pull {}, push {}",
            range,
            peerName,
            leaves.get(leafIndex),
            localEntries.size(),
            peerEntries.size(),
            r.toPull().size(),
            r.toPush().size());
    if (!r.conflicts().isEmpty()) {
      getContext()
          .getLog()
          .warn(
              "repair of {} with {}: {} key(s) held under one version with different "
                  + "contents, left as they are (first: {})",
              range,
              peerName,
              r.conflicts().size(),
              r.conflicts().get(0));
    }
    toPush = r.toPush();
    pushedUpTo = 0;
    phase = Phase.PULL;
    getContext()
        .spawnAnonymous(
            BatchApplier.create(storage, r.toPull(), settings.stepTimeout, localAdapter));
    return this;
  }

  /**
   * Pushes the leaf's entries to the peer one batch at a time, each acknowledged before the next.
   */
  private Behavior<Command> pushNext() {
    if (pushedUpTo >= toPush.size()) {
      return nextLeaf();
    }
    phase = Phase.PUSH;
    int to =
        pushedUpTo
            + Batches.nextBatchSize(toPush, pushedUpTo, settings.batchSize, settings.maxBatchBytes);
    List<StoredEntry> chunk = List.copyOf(toPush.subList(pushedUpTo, to));
    pushedUpTo = to;
    getContext()
        .ask(
            Stabilizer.PeerReply.class,
            peer,
            settings.stepTimeout,
            ref -> new Stabilizer.ApplyEntries(chunk, ref),
            PeerAnswered::new);
    return this;
  }

  private static String last(List<StoredEntry> entries) {
    return entries.get(entries.size() - 1).key();
  }

  private Behavior<Command> finish(boolean ok, String error) {
    int mismatched = leaves.size();
    if (ok && pulled + pushed == 0) {
      // a round covers hundreds of ranges that agree: INFO only where data moved
      getContext()
          .getLog()
          .debug("repaired {} with {} on {}: nothing differed", range, peerName, nodeName);
    } else if (ok) {
      getContext()
          .getLog()
          .info(
              "repaired {} with {} on {}: {} leaves differed, pulled {} keys, pushed {}",
              range,
              peerName,
              nodeName,
              mismatched,
              pulled,
              pushed);
    } else {
      getContext()
          .getLog()
          .warn(
              "repair of {} with {} on {} failed after pulling {} and pushing {} keys: {}",
              range,
              peerName,
              nodeName,
              pulled,
              pushed,
              error);
    }
    replyTo.tell(new Stabilizer.RepairDone(range, peerName, mismatched, pulled, pushed, ok, error));
    return Behaviors.stopped();
  }
}
