package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.ring.TokenRange;
import dhtnode.storage.StorageActor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One {@link Stabilizer.Resync}: brings a pending range this node already holds most of (it
 * restarted, or the cluster excluded it for a while) up to date by Merkle comparison instead of
 * streaming it whole. For each source in order it runs a pull-only {@link RepairSession}, which
 * compares trees and takes only the keys of differing leaves that the source holds newer; it
 * succeeds once {@code mergeFrom} sources have each been compared over the whole range, the same
 * bar a {@link FetchSession} meets. A source that fails is replaced by the next one. Replies once
 * with {@link Stabilizer.FetchDone} ({@code keys}: keys pulled) and stops.
 *
 * <p>When the local copy may hold values whose deletes were purged meanwhile
 * ({@code replaceWhenHeld}), merging would bring them back. It first asks the sources whether
 * they hold the range; if at least {@code mergeFrom} do, it deletes the local copy and streams
 * the range from them ({@link SweepSession}, then {@link FetchSession}). If not (they are
 * themselves restarting, so nobody has been purging), it merges as above.
 */
final class ResyncSession extends AbstractBehavior<ResyncSession.Command> {

  sealed interface Command {}

  private record Compared(Stabilizer.RepairDone done) implements Command {}

  private record HoldersKnown(HoldersCheck.Holders holders) implements Command {}

  private record Swept(Stabilizer.DropDone done) implements Command {}

  private record Streamed(Stabilizer.FetchDone done) implements Command {}

  static Behavior<Command> create(String nodeName, ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings, TokenRange range, List<Stabilizer.Source> sources, int mergeFrom,
      boolean replaceWhenHeld, ActorRef<Stabilizer.FetchDone> replyTo) {
    return Behaviors.setup(context -> {
      if (mergeFrom < 1 || mergeFrom > sources.size()) {
        replyTo.tell(new Stabilizer.FetchDone(range, List.of(), 0, 0, false,
            "cannot merge from " + mergeFrom + " of " + sources.size() + " source(s)"));
        return Behaviors.stopped();
      }
      return new ResyncSession(context, nodeName, storage, settings, range, sources, mergeFrom, replaceWhenHeld,
          replyTo);
    });
  }

  private final String nodeName;
  private final ActorRef<StorageActor.Command> storage;
  private final StabilizerSettings settings;
  private final TokenRange range;
  private final List<Stabilizer.Source> sources;
  private final int mergeFrom;
  private final ActorRef<Stabilizer.FetchDone> replyTo;
  private final ActorRef<Stabilizer.RepairDone> comparedAdapter;
  private final long startNanos = System.nanoTime();
  private final List<String> completedFrom = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private int next;
  private long keys;
  private int mismatchedLeaves;
  private List<Stabilizer.Source> holders = List.of();

  private ResyncSession(ActorContext<Command> context, String nodeName, ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings, TokenRange range, List<Stabilizer.Source> sources, int mergeFrom,
      boolean replaceWhenHeld, ActorRef<Stabilizer.FetchDone> replyTo) {
    super(context);
    this.nodeName = nodeName;
    this.storage = storage;
    this.settings = settings;
    this.range = range;
    this.sources = List.copyOf(sources);
    this.mergeFrom = mergeFrom;
    this.replyTo = replyTo;
    this.comparedAdapter = context.messageAdapter(Stabilizer.RepairDone.class, Compared::new);
    if (replaceWhenHeld) {
      context.spawn(HoldersCheck.create(range, this.sources, settings.stepTimeout,
          context.messageAdapter(HoldersCheck.Holders.class, HoldersKnown::new)), "holders");
    } else {
      compareWithNext();
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Compared.class, this::onCompared)
        .onMessage(HoldersKnown.class, this::onHoldersKnown)
        .onMessage(Swept.class, this::onSwept)
        .onMessage(Streamed.class, this::onStreamed)
        .build();
  }

  private Behavior<Command> onHoldersKnown(HoldersKnown known) {
    holders = known.holders().holders();
    if (holders.size() < mergeFrom) {
      getContext().getLog().info("resync of {} to {}: only {} of the sources hold it (the others are filling too), "
          + "so the local copy is merged, not replaced", range, nodeName, holders.size());
      compareWithNext();
      return this;
    }
    getContext().spawn(SweepSession.create(storage, settings, range,
        getContext().messageAdapter(Stabilizer.DropDone.class, Swept::new)), "sweep");
    return this;
  }

  private Behavior<Command> onSwept(Swept swept) {
    if (!swept.done().ok()) {
      failures.add("deleting the local copy: " + swept.done().error());
      return finish(false);
    }
    getContext().getLog().info("resync of {} to {}: deleted {} local keys too old to merge; streaming from {}",
        range, nodeName, swept.done().deleted(), holders.stream().map(Stabilizer.Source::name).toList());
    getContext().spawn(FetchSession.create(nodeName, storage, settings, range, holders, mergeFrom,
        getContext().messageAdapter(Stabilizer.FetchDone.class, Streamed::new)), "stream");
    return this;
  }

  private Behavior<Command> onStreamed(Streamed streamed) {
    // the stream logged the move itself
    replyTo.tell(streamed.done());
    return Behaviors.stopped();
  }

  private void compareWithNext() {
    Stabilizer.Source source = sources.get(next++);
    getContext().spawn(RepairSession.create(nodeName, storage, settings, range, source.name(),
        source.stabilizer(), true, comparedAdapter), "pull-" + next);
  }

  private Behavior<Command> onCompared(Compared compared) {
    Stabilizer.RepairDone done = compared.done();
    keys += done.keysPulled();
    mismatchedLeaves += done.mismatchedLeaves();
    if (done.ok()) {
      completedFrom.add(done.peerName());
    } else {
      failures.add(done.peerName() + ": " + done.error());
    }
    if (completedFrom.size() == mergeFrom) {
      return finish(true);
    }
    if (mergeFrom - completedFrom.size() > sources.size() - next) {
      return finish(false);
    }
    compareWithNext();
    return this;
  }

  private Behavior<Command> finish(boolean ok) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    if (ok && keys == 0) {
      getContext().getLog().debug("resynced {} from {} to {}: already up to date", range, completedFrom, nodeName);
    } else if (ok) {
      getContext().getLog().info("resynced {} from {} to {}: {} leaves differed, {} keys pulled, {} s",
          range, String.join(",", completedFrom), nodeName, mismatchedLeaves, keys,
          String.format(Locale.ROOT, "%.1f", seconds));
    } else {
      getContext().getLog().warn("resync of {} to {} failed after {} keys: {}", range, nodeName, keys, failures);
    }
    replyTo.tell(new Stabilizer.FetchDone(range, List.copyOf(completedFrom), keys, 0, ok,
        ok ? null : "compared with " + completedFrom.size() + " of " + mergeFrom + " source(s): " + failures));
    return Behaviors.stopped();
  }
}
