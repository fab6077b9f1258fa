package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.common.CborSerializable;
import dhtnode.keyspace.TokenRange;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StoredEntry;
import dhtnode.storage.Version;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;

/**
 * One per node: moves data between this node's storage and its peers' Stabilizers. It runs two
 * kinds of work, each session in its own child actor so several run at once: anti-entropy of one
 * range with one peer ({@link Repair}, see {@link RepairSession}), and filling a pending range from
 * one or more old replicas, either by streaming it ({@link Fetch}, see {@link FetchSession}) or,
 * when this node already holds most of it, by Merkle comparison ({@link Resync}). At most {@code
 * max-concurrent-sessions} run at once; the rest wait in arrival order. It also serves its peers'
 * sessions from local storage: Merkle trees ({@link GetTree}), batches of a range ({@link
 * GetBatch}) and pushed entries ({@link ApplyEntries}).
 *
 * <p>Peers are remote in production and there is no remote death watch, so every wait on a peer has
 * a timeout. Only the serving side's requests ({@link PeerCommand}) and the replies are {@link
 * CborSerializable}; the planner's commands ({@link Repair}, {@link Fetch}, {@link Drop}, {@link
 * CollectTombstones}) have no wire format, so no peer can send them.
 */
public final class Stabilizer extends AbstractBehavior<Stabilizer.Command> {

  /** Everything this actor accepts; the planner's commands are local-only. */
  public sealed interface Command {}

  /** What a peer's Stabilizer (or one of its sessions) may send over the wire. */
  public sealed interface PeerCommand extends Command, CborSerializable {}

  /**
   * Compare {@code range} with {@code peer} and exchange the keys that differ, both ways; the peer
   * answers only at ring {@code epoch}.
   */
  public record Repair(
      TokenRange range,
      long epoch,
      String peerName,
      ActorRef<Command> peer,
      ActorRef<RepairDone> replyTo)
      implements Command {}

  /**
   * Stream {@code range} into local storage from the sources in order, until {@code mergeFrom}
   * sources have each covered the whole range (resuming on the next source when one stops). A
   * source serves only while it is at ring {@code epoch}, so it no longer takes writes of an older
   * epoch: what it streams holds every write it acknowledged before.
   */
  public record Fetch(
      TokenRange range,
      long epoch,
      List<Source> sources,
      int mergeFrom,
      ActorRef<FetchDone> replyTo)
      implements Command {}

  /** Delete {@code range} from local storage: it was handed off to its new owners. */
  public record Drop(TokenRange range, ActorRef<DropDone> replyTo) implements Command {}

  /**
   * As the primary of {@code range}: purge its tombstones older than {@code cutoff} (a hybrid clock
   * timestamp) from this node and every peer, where every peer holds the same version (see {@link
   * TombstoneCollector}).
   */
  public record CollectTombstones(
      TokenRange range, long epoch, List<Source> peers, long cutoff, ActorRef<CollectDone> replyTo)
      implements Command {}

  /** Serving side: the stored version of each key, at ring {@code epoch}; {@link VersionsOf}. */
  public record GetVersions(List<String> keys, long epoch, ActorRef<PeerReply> replyTo)
      implements PeerCommand {}

  /** Serving side: delete each key only if it holds exactly that version; {@link EntriesPurged}. */
  public record PurgeEntries(List<KeyVersion> entries, ActorRef<PeerReply> replyTo)
      implements PeerCommand {}

  public record KeyVersion(String key, Version version) implements CborSerializable {}

  /** A peer to fetch from: its node name and its Stabilizer. */
  public record Source(String name, ActorRef<Command> stabilizer) implements CborSerializable {}

  /**
   * Serving side: this node's Merkle tree of {@code range} at ring {@code epoch}; {@link
   * TreeBuilt}.
   */
  public record GetTree(TokenRange range, int depth, long epoch, ActorRef<PeerReply> replyTo)
      implements PeerCommand {}

  /**
   * Serving side: entries of {@code range} strictly after {@code afterKey} (null: from the start),
   * only while this node is at ring {@code epoch}.
   */
  public record GetBatch(
      TokenRange range, String afterKey, int limit, long epoch, ActorRef<PeerReply> replyTo)
      implements PeerCommand {}

  /** Serving side: store these entries (last writer wins); answered with {@link EntriesApplied}. */
  public record ApplyEntries(List<StoredEntry> entries, ActorRef<PeerReply> replyTo)
      implements PeerCommand {}

  /** Replies between Stabilizers (and from their helper children). */
  public sealed interface PeerReply extends CborSerializable {}

  public record TreeBuilt(TokenRange range, int depth, long[] hashes) implements PeerReply {}

  /** {@code complete} when the range holds nothing after these entries. */
  public record Batch(
      TokenRange range, String afterKey, List<StoredEntry> entries, boolean complete)
      implements PeerReply {}

  /** {@code applied} counts the entries that were newer than what the replica held. */
  public record EntriesApplied(int received, int applied, long bytes) implements PeerReply {}

  public record PeerFailed(String reason) implements PeerReply {}

  /** One per asked key, in order; null where this node holds nothing it can answer for. */
  public record VersionsOf(List<Version> versions) implements PeerReply {}

  public record EntriesPurged(int purged) implements PeerReply {}

  /** Outcome of a {@link Drop}: keys deleted. */
  public record DropDone(TokenRange range, long deleted, boolean ok, String error) {}

  /** Outcome of a {@link CollectTombstones}: entries scanned on the primary, tombstones purged. */
  public record CollectDone(
      TokenRange range, long scanned, long purged, boolean ok, String error) {}

  /** Outcome of a {@link Repair}, from the initiator's side: pulled into it, pushed to the peer. */
  public record RepairDone(
      TokenRange range,
      String peerName,
      int mismatchedLeaves,
      long keysPulled,
      long keysPushed,
      boolean ok,
      String error)
      implements CborSerializable {}

  /** Outcome of a {@link Fetch}: the source that finished each pass; keys and bytes applied. */
  public record FetchDone(
      TokenRange range,
      long epoch,
      List<String> completedFrom,
      long keys,
      long bytes,
      boolean ok,
      String error)
      implements CborSerializable {}

  private record BatchScanned(GetBatch request, StorageActor.Reply reply, Throwable failure)
      implements Command {}

  private enum SessionEnded implements Command {
    INSTANCE
  }

  /**
   * @param status this node's epoch and what it has not refilled: peers are served only at their
   *     epoch
   */
  public static Behavior<Command> create(
      String nodeName,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      ReplicaStatus status) {
    return Behaviors.setup(context -> new Stabilizer(context, nodeName, storage, settings, status));
  }

  private final String nodeName;
  private final ActorRef<StorageActor.Command> storage;
  private final StabilizerSettings settings;
  private final ReplicaStatus status;
  private final Queue<Command> waiting = new ArrayDeque<>();
  private int running;
  private long sessionSeq;

  private Stabilizer(
      ActorContext<Command> context,
      String nodeName,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      ReplicaStatus status) {
    super(context);
    this.status = status;
    this.nodeName = nodeName;
    this.storage = storage;
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Repair.class, this::onSession)
        .onMessage(Fetch.class, this::onSession)
        .onMessage(SessionEnded.class, this::onSessionEnded)
        .onMessage(GetTree.class, this::onGetTree)
        .onMessage(GetBatch.class, this::onGetBatch)
        .onMessage(BatchScanned.class, this::onBatchScanned)
        .onMessage(ApplyEntries.class, this::onApplyEntries)
        .onMessage(Drop.class, this::onDrop)
        .onMessage(CollectTombstones.class, this::onCollectTombstones)
        .onMessage(GetVersions.class, this::onGetVersions)
        .onMessage(PurgeEntries.class, this::onPurgeEntries)
        .build();
  }

  private Behavior<Command> onSession(Command session) {
    if (running < settings.maxConcurrentSessions) {
      start(session);
    } else {
      waiting.add(session);
      getContext()
          .getLog()
          .debug("{} sessions running, queued {} ({} waiting)", running, session, waiting.size());
    }
    return this;
  }

  private void start(Command session) {
    long seq = ++sessionSeq;
    ActorRef<?> child;
    if (session instanceof Repair r) {
      child =
          getContext().spawn(RepairSession.create(nodeName, storage, settings, r), "repair-" + seq);
    } else if (session instanceof Fetch f) {
      child =
          getContext().spawn(FetchSession.create(nodeName, storage, settings, f), "fetch-" + seq);
    } else {
      throw new IllegalArgumentException("not a session: " + session);
    }
    getContext().watchWith(child, SessionEnded.INSTANCE);
    running++;
  }

  private Behavior<Command> onSessionEnded(SessionEnded ended) {
    running--;
    Command next = waiting.poll();
    if (next != null) {
      start(next);
    }
    return this;
  }

  private Behavior<Command> onGetTree(GetTree request) {
    if (refuse(request.range(), request.epoch(), request.replyTo())) {
      return this;
    }
    if (request.depth() < 0 || request.depth() > 20) {
      request.replyTo().tell(new PeerFailed("depth must be 0..20, was " + request.depth()));
      return this;
    }
    getContext()
        .spawnAnonymous(
            TreeScanner.create(
                storage, settings, request.range(), request.depth(), request.replyTo()));
    return this;
  }

  /**
   * A peer is served only at its own epoch (a source at an older one may still take writes of that
   * epoch; at a newer one the asker is behind), and never from a range this node has not refilled
   * since it lost its data: an empty answer would count as a replica that holds nothing.
   */
  private boolean refuse(TokenRange range, long epoch, ActorRef<PeerReply> replyTo) {
    long mine = status.epoch();
    if (mine != epoch) {
      replyTo.tell(new PeerFailed(nodeName + " is at ring epoch " + mine + ", asked at " + epoch));
      return true;
    }
    if (range != null && status.recovering(range)) {
      replyTo.tell(
          new PeerFailed(nodeName + " has not refilled " + range + " since it lost its data"));
      return true;
    }
    return false;
  }

  private Behavior<Command> onGetBatch(GetBatch request) {
    if (refuse(request.range(), request.epoch(), request.replyTo())) {
      return this;
    }
    // our own batch size bounds what one message carries, whatever the peer asked for
    int limit = Math.max(1, Math.min(request.limit(), settings.batchSize));
    getContext()
        .ask(
            StorageActor.Reply.class,
            storage,
            settings.stepTimeout,
            ref -> new StorageActor.Scan(request.range(), request.afterKey(), limit, ref),
            (reply, failure) -> new BatchScanned(request, reply, failure));
    return this;
  }

  private Behavior<Command> onBatchScanned(BatchScanned scanned) {
    GetBatch request = scanned.request();
    if (scanned.reply() instanceof StorageActor.ScanResult result) {
      List<StoredEntry> scannedEntries = result.entries();
      int n =
          Batches.nextBatchSize(scannedEntries, 0, scannedEntries.size(), settings.maxBatchBytes);
      // a batch cut short by the byte budget is not the end: the peer resumes after its last key
      boolean complete = result.complete() && n == scannedEntries.size();
      List<StoredEntry> entries = List.copyOf(scannedEntries.subList(0, n));
      getContext()
          .getLog()
          .debug(
              "serving {} after {}: {} entries, complete {}",
              request.range(),
              request.afterKey(),
              entries.size(),
              complete);
      request.replyTo().tell(new Batch(request.range(), request.afterKey(), entries, complete));
    } else {
      String reason =
          scanned.failure() != null
              ? "local scan timed out or failed: " + scanned.failure().getMessage()
              : "local scan failed: " + scanned.reply();
      request.replyTo().tell(new PeerFailed(reason));
    }
    return this;
  }

  private Behavior<Command> onDrop(Drop drop) {
    getContext()
        .spawnAnonymous(SweepSession.create(storage, settings, drop.range(), drop.replyTo()));
    return this;
  }

  private Behavior<Command> onCollectTombstones(CollectTombstones collect) {
    getContext().spawnAnonymous(TombstoneCollector.create(storage, settings, collect));
    return this;
  }

  private Behavior<Command> onGetVersions(GetVersions request) {
    if (refuse(null, request.epoch(), request.replyTo())) {
      return this;
    }
    getContext()
        .spawnAnonymous(
            KeyBatch.versions(
                storage, request.keys(), request.epoch(), settings.stepTimeout, request.replyTo()));
    return this;
  }

  private Behavior<Command> onPurgeEntries(PurgeEntries request) {
    getContext()
        .spawnAnonymous(
            KeyBatch.purge(storage, request.entries(), settings.stepTimeout, request.replyTo()));
    return this;
  }

  private Behavior<Command> onApplyEntries(ApplyEntries request) {
    getContext()
        .spawnAnonymous(
            BatchApplier.create(
                storage, request.entries(), settings.stepTimeout, request.replyTo()));
    return this;
  }
}
