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
import dhtnode.storage.Version;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One {@link Stabilizer.CollectTombstones}, run by a range's primary replica: purges the range's
 * tombstones older than the cutoff from every replica, but only those every other replica is seen
 * to hold in exactly the same version. Batch by batch, it scans local storage for old tombstones,
 * asks each peer for its versions of those keys ({@link Stabilizer.GetVersions}), has the peers
 * purge the confirmed ones ({@link Stabilizer.PurgeEntries}, each a compare-and- delete, so a newer
 * write in between survives) and then purges them locally. A key one replica lacks, holds in
 * another version, or cannot answer for (pending) is kept for a later round; so a delete is
 * forgotten only when no replica can bring back what it deleted. Any failure ends the session; what
 * was purged stays purged. Replies once with {@link Stabilizer.CollectDone}.
 */
final class TombstoneCollector extends AbstractBehavior<TombstoneCollector.Command> {

  sealed interface Command {}

  private record LocalScanned(StorageActor.Reply reply, Throwable failure) implements Command {}

  private record PeerAnswered(int peer, Stabilizer.PeerReply reply, Throwable failure)
      implements Command {}

  private record LocalPurged(Stabilizer.PeerReply reply) implements Command {}

  static Behavior<Command> create(
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      Stabilizer.CollectTombstones collect) {
    return Behaviors.setup(context -> new TombstoneCollector(context, storage, settings, collect));
  }

  private final ActorRef<StorageActor.Command> storage;
  private final StabilizerSettings settings;
  private final TokenRange range;
  private final long epoch;
  private final List<Stabilizer.Source> peers;
  private final long cutoff;
  private final ActorRef<Stabilizer.CollectDone> replyTo;
  private final ActorRef<Stabilizer.PeerReply> localAdapter;

  private String cursor;
  private boolean lastBatch;
  private List<Stabilizer.KeyVersion> candidates = List.of();
  private boolean[] confirmed;
  private int answers;
  private List<Stabilizer.KeyVersion> toPurge = List.of();
  private long entriesScanned;
  private long purged;

  private TombstoneCollector(
      ActorContext<Command> context,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      Stabilizer.CollectTombstones collect) {
    super(context);
    this.storage = storage;
    this.settings = settings;
    this.range = collect.range();
    this.epoch = collect.epoch();
    this.peers = List.copyOf(collect.peers());
    this.cutoff = collect.cutoff();
    this.replyTo = collect.replyTo();
    this.localAdapter = context.messageAdapter(Stabilizer.PeerReply.class, LocalPurged::new);
    scanNext();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(LocalScanned.class, this::onLocalScanned)
        .onMessage(PeerAnswered.class, this::onPeerAnswered)
        .onMessage(LocalPurged.class, this::onLocalPurged)
        .build();
  }

  private void scanNext() {
    String after = cursor;
    getContext()
        .ask(
            StorageActor.Reply.class,
            storage,
            settings.stepTimeout,
            ref -> new StorageActor.Scan(range, after, settings.batchSize, ref),
            LocalScanned::new);
  }

  private Behavior<Command> onLocalScanned(LocalScanned scanned) {
    if (!(scanned.reply() instanceof StorageActor.ScanResult result)) {
      return finish(
          false, "local scan: " + (scanned.failure() != null ? "timed out" : scanned.reply()));
    }
    List<Stabilizer.KeyVersion> old = new ArrayList<>();
    for (StoredEntry e : result.entries()) {
      if (e.value().tombstone() && e.value().version().timestamp() < cutoff) {
        old.add(new Stabilizer.KeyVersion(e.key(), e.value().version()));
      }
    }
    entriesScanned += result.entries().size();
    lastBatch = result.complete();
    if (!result.entries().isEmpty()) {
      cursor = result.entries().get(result.entries().size() - 1).key();
    }
    if (old.isEmpty()) {
      return lastBatch ? finish(true, null) : scanAgain();
    }
    candidates = old;
    if (peers.isEmpty()) {
      toPurge = old;
      getContext()
          .spawnAnonymous(KeyBatch.purge(storage, toPurge, settings.stepTimeout, localAdapter));
      return this;
    }
    confirmed = new boolean[old.size()];
    Arrays.fill(confirmed, true);
    askPeers(false);
    return this;
  }

  private Behavior<Command> scanAgain() {
    scanNext();
    return this;
  }

  private void askPeers(boolean purge) {
    answers = 0;
    List<String> keys = candidates.stream().map(Stabilizer.KeyVersion::key).toList();
    for (int i = 0; i < peers.size(); i++) {
      int peer = i;
      List<Stabilizer.KeyVersion> entries = toPurge;
      getContext()
          .ask(
              Stabilizer.PeerReply.class,
              peers.get(i).stabilizer(),
              settings.stepTimeout,
              ref ->
                  purge
                      ? new Stabilizer.PurgeEntries(entries, ref)
                      : new Stabilizer.GetVersions(keys, epoch, ref),
              (reply, failure) -> new PeerAnswered(peer, reply, failure));
    }
  }

  private Behavior<Command> onPeerAnswered(PeerAnswered answered) {
    String peerName = peers.get(answered.peer()).name();
    if (answered.reply() instanceof Stabilizer.VersionsOf versions
        && versions.versions().size() == candidates.size()) {
      for (int i = 0; i < candidates.size(); i++) {
        Version theirs = versions.versions().get(i);
        if (theirs == null || !theirs.equals(candidates.get(i).version())) {
          confirmed[i] = false;
        }
      }
    } else if (!(answered.reply() instanceof Stabilizer.EntriesPurged)) {
      return finish(
          false,
          "peer "
              + peerName
              + ": "
              + (answered.failure() != null ? "no answer in time" : answered.reply()));
    }
    if (++answers < peers.size()) {
      return this;
    }
    if (answered.reply() instanceof Stabilizer.VersionsOf) {
      List<Stabilizer.KeyVersion> held = new ArrayList<>();
      for (int i = 0; i < candidates.size(); i++) {
        if (confirmed[i]) {
          held.add(candidates.get(i));
        }
      }
      if (held.isEmpty()) {
        return lastBatch ? finish(true, null) : scanAgain();
      }
      toPurge = held;
      askPeers(true);
      return this;
    }
    // every peer purged its copies: now ours
    getContext()
        .spawnAnonymous(KeyBatch.purge(storage, toPurge, settings.stepTimeout, localAdapter));
    return this;
  }

  private Behavior<Command> onLocalPurged(LocalPurged local) {
    if (!(local.reply() instanceof Stabilizer.EntriesPurged done)) {
      return finish(false, "local purge: " + local.reply());
    }
    purged += done.purged();
    return lastBatch ? finish(true, null) : scanAgain();
  }

  private Behavior<Command> finish(boolean ok, String error) {
    replyTo.tell(new Stabilizer.CollectDone(range, entriesScanned, purged, ok, error));
    return Behaviors.stopped();
  }
}
