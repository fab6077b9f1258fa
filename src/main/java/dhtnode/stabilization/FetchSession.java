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
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One {@link Stabilizer.Fetch}: streams a range into local storage from old replicas, one batch at
 * a time. It asks the current source for the entries after its cursor, applies them with puts, and
 * asks for the next batch only once every put is acknowledged, so a slow receiver slows the stream
 * instead of queueing it (back-pressure by construction). Which source serves which part of the
 * range is decided by {@link FetchPlan}: a source that does not answer within the step timeout is
 * replaced by the next one, resuming after the last applied key. Replies once with {@link
 * Stabilizer.FetchDone} and stops.
 *
 * <p>The sources are the range's replicas in the ring the epoch moves away from, and each serves
 * only while it is at the fill's epoch (see {@link Stabilizer.Fetch}): a node that is still filling
 * itself, or that was never a replica, is never asked.
 */
final class FetchSession extends AbstractBehavior<FetchSession.Command> {

  sealed interface Command {}

  private record SourceAnswered(Stabilizer.PeerReply reply, Throwable failure) implements Command {}

  private record Applied(Stabilizer.PeerReply reply) implements Command {}

  static Behavior<Command> create(
      String nodeName,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      Stabilizer.Fetch fetch) {
    return Behaviors.setup(
        context -> {
          FetchPlan plan;
          try {
            plan =
                FetchPlan.start(
                    fetch.sources().stream().map(Stabilizer.Source::name).toList(),
                    fetch.mergeFrom());
          } catch (IllegalArgumentException e) {
            fetch
                .replyTo()
                .tell(
                    new Stabilizer.FetchDone(
                        fetch.range(), fetch.epoch(), List.of(), 0, 0, false, e.getMessage()));
            return Behaviors.stopped();
          }
          FetchSession session =
              new FetchSession(context, nodeName, storage, settings, fetch, plan);
          session.requestBatch();
          return session;
        });
  }

  private final String nodeName;
  private final ActorRef<StorageActor.Command> storage;
  private final StabilizerSettings settings;
  private final TokenRange range;
  private final long epoch;
  private final List<Stabilizer.Source> sources;
  private final ActorRef<Stabilizer.FetchDone> replyTo;
  private final ActorRef<Stabilizer.PeerReply> appliedAdapter;
  private final long startNanos = System.nanoTime();
  private FetchPlan plan;

  /** The batch being applied: its last key and whether the source said the range ends there. */
  private String pendingLastKey;

  private boolean pendingComplete;
  private long keys;
  private long bytes;

  private FetchSession(
      ActorContext<Command> context,
      String nodeName,
      ActorRef<StorageActor.Command> storage,
      StabilizerSettings settings,
      Stabilizer.Fetch fetch,
      FetchPlan plan) {
    super(context);
    this.epoch = fetch.epoch();
    this.nodeName = nodeName;
    this.storage = storage;
    this.settings = settings;
    this.range = fetch.range();
    this.sources = List.copyOf(fetch.sources());
    this.plan = plan;
    this.replyTo = fetch.replyTo();
    this.appliedAdapter = context.messageAdapter(Stabilizer.PeerReply.class, Applied::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SourceAnswered.class, this::onSourceAnswered)
        .onMessage(Applied.class, this::onApplied)
        .build();
  }

  private void requestBatch() {
    Stabilizer.Source source = sources.get(plan.currentSource());
    String after = plan.cursor();
    getContext()
        .ask(
            Stabilizer.PeerReply.class,
            source.stabilizer(),
            settings.stepTimeout,
            ref -> new Stabilizer.GetBatch(range, after, settings.batchSize, epoch, ref),
            SourceAnswered::new);
  }

  private Behavior<Command> onSourceAnswered(SourceAnswered answered) {
    if (!(answered.reply() instanceof Stabilizer.Batch batch) || !range.equals(batch.range())) {
      String reason =
          answered.failure() != null
              ? "no batch within " + settings.stepTimeout.toMillis() + " ms"
              : String.valueOf(answered.reply());
      String failed = plan.currentSourceName();
      String cursor = plan.cursor();
      plan = plan.sourceFailed(reason);
      if (!plan.finished()) {
        getContext()
            .getLog()
            .info(
                "fetching {}: {} failed ({}), resuming after {} from {}",
                range,
                failed,
                reason,
                cursor == null ? "the range start" : "key " + cursor,
                plan.currentSourceName());
      }
      return next();
    }
    List<StoredEntry> entries = batch.entries();
    if (entries.isEmpty() && !batch.complete()) {
      plan = plan.sourceFailed("empty batch that is not the end of the range");
      return next();
    }
    pendingLastKey = entries.isEmpty() ? null : entries.get(entries.size() - 1).key();
    pendingComplete = batch.complete();
    getContext()
        .spawnAnonymous(
            BatchApplier.create(storage, entries, settings.stepTimeout, appliedAdapter));
    return this;
  }

  private Behavior<Command> onApplied(Applied applied) {
    if (!(applied.reply() instanceof Stabilizer.EntriesApplied done)) {
      // our own storage failing is not the source's fault: another source would not help
      return finish(false, "applying locally failed: " + applied.reply());
    }
    keys += done.received();
    bytes += done.bytes();
    getContext()
        .getLog()
        .debug(
            "fetching {} from {}: applied {} entries ({} newer) after {}",
            range,
            plan.currentSourceName(),
            done.received(),
            done.applied(),
            plan.cursor());
    plan = plan.batchApplied(pendingLastKey, pendingComplete);
    return next();
  }

  private Behavior<Command> next() {
    if (plan.finished()) {
      return finish(plan.succeeded(), plan.failure());
    }
    requestBatch();
    return this;
  }

  private Behavior<Command> finish(boolean ok, String error) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    String from = String.join(",", plan.completedFrom());
    if (ok && keys == 0) {
      // a join fills hundreds of small ranges, most of them empty: INFO only for data moved
      getContext().getLog().debug("fetched {} from {} to {}: empty", range, from, nodeName);
    } else if (ok) {
      getContext()
          .getLog()
          .info(
              "fetched {} from {} to {}: {} keys, {} KiB, {} s",
              range,
              from,
              nodeName,
              keys,
              bytes / 1024,
              String.format(Locale.ROOT, "%.1f", seconds));
    } else {
      getContext()
          .getLog()
          .warn(
              "fetch of {} to {} failed after {} keys from {}: {}",
              range,
              nodeName,
              keys,
              sources.stream().map(Stabilizer.Source::name).collect(Collectors.joining(",")),
              error);
    }
    replyTo.tell(
        new Stabilizer.FetchDone(
            range, epoch, plan.completedFrom(), keys, bytes, ok, ok ? null : error));
    return Behaviors.stopped();
  }
}
