package dhtnode.storage;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.common.CborSerializable;
import dhtnode.keyspace.Murmur3;
import dhtnode.keyspace.TokenRange;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Owns this node's {@link StorageEngine}: the only actor that touches it, so last-writer-wins
 * compare-and-put is atomic without locks. It runs on the dedicated storage dispatcher (see {@code
 * dht.storage.dispatcher}), never on Akka's default one, because engine calls block on disk. Local
 * and remote coordinators talk to it with the same messages. The engine is closed when the actor
 * stops, which coordinated shutdown does on SIGTERM.
 *
 * <p>Group commit ({@link WriteMode#grouped}, the node's mode with {@code fsync = on}): a {@link
 * Put} or {@link Apply} is checked as it arrives but queued, and the first one queued sends this
 * actor a flush marker. The marker comes back after every message already in the mailbox, so
 * everything that arrived meanwhile (above all, during the previous batch's fsync) joins the batch;
 * then the batch is one {@link StorageEngine#putAll} (one synced RocksDB write) and only then is
 * each write answered, in arrival order. A failed batch answers each of its writes with {@link
 * StorageFailed} and stores none of them. Reads are served from what is committed, never from the
 * queue, so nothing is visible before it is durable; purges, scans and sweeps commit the queue
 * first, so they see every write that arrived before them. {@link WriteMode#PER_WRITE} (fsync off)
 * writes each put as it arrives.
 */
public final class StorageActor extends AbstractBehavior<StorageActor.Command> {

  /** Config path of the dispatcher this actor must be spawned on. */
  public static final String DISPATCHER = "dht.storage.dispatcher";

  /**
   * Everything this actor accepts. Only {@link PeerCommand}s (a coordinator's reads and writes)
   * have a wire format; the rest are this node's own (stabilization's scans, applies, purges and
   * sweeps; the stats poll), so no peer can send them.
   */
  public sealed interface Command {}

  /** What a coordinator on another node may send: serialized with CBOR. */
  public sealed interface PeerCommand extends Command, CborSerializable {}

  /**
   * A coordinator's read at ring {@code epoch}: answered only if this node is at the same epoch
   * (else {@link WrongEpoch}). {@code tag} and {@code request} are echoed in the reply (see {@link
   * TaggedReply}): the tag lets one message adapter tell apart the replies to many requests (the
   * coordinator's replica and phase), the request id lets one long-lived actor on the coordinator's
   * node hand each reply to its coordinator, so {@code replyTo} need not name a per-request actor.
   * Callers that ask one at a time leave both 0.
   */
  // The request id is a field of its own, not packed into the tag: it must stay unique for the
  // process's lifetime (a reused id could hand a late reply to a coordinator that happens to hold
  // the same tag), so it needs all 64 bits, while the tag already uses 31 of an int's for the
  // attempt, replica and step. Kept apart, the tag keeps its meaning and the storage actor only
  // echoes both; the cost is one more small CBOR field per message.
  public record Get(String key, long epoch, int tag, long request, ActorRef<Reply> replyTo)
      implements PeerCommand {
    /** No request id: the reply goes straight to {@code replyTo}. */
    public Get(String key, long epoch, int tag, ActorRef<Reply> replyTo) {
      this(key, epoch, tag, 0, replyTo);
    }

    /** Epoch 0, tag 0: for a node without a ring (tools, tests). */
    public Get(String key, ActorRef<Reply> replyTo) {
      this(key, 0, 0, replyTo);
    }
  }

  /** A coordinator's write at ring {@code epoch}, fenced and tagged as for {@link Get}. */
  public record Put(
      String key, Versioned value, long epoch, int tag, long request, ActorRef<Reply> replyTo)
      implements PeerCommand {
    /** No request id: the reply goes straight to {@code replyTo}. */
    public Put(String key, Versioned value, long epoch, int tag, ActorRef<Reply> replyTo) {
      this(key, value, epoch, tag, 0, replyTo);
    }

    /** Epoch 0, tag 0: for a node without a ring (tools, tests). */
    public Put(String key, Versioned value, ActorRef<Reply> replyTo) {
      this(key, value, 0, 0, replyTo);
    }
  }

  /**
   * Stores a value the stabilizer moves between replicas (handoff, anti-entropy): like {@link Put},
   * but always answered with {@link WriteResult}, pending or not, because filling a pending range
   * is exactly what it is for.
   */
  public record Apply(String key, Versioned value, ActorRef<Reply> replyTo) implements Command {}

  public record Purge(String key, Version expected, ActorRef<Reply> replyTo) implements Command {}

  public record Scan(TokenRange range, String afterKey, int limit, ActorRef<Reply> replyTo)
      implements Command {}

  public record GetStats(ActorRef<Reply> replyTo) implements Command {}

  /**
   * Deletes the next {@code limit} entries of {@code range} after {@code afterKey} (null: from the
   * start) that this node does not replicate at its epoch when the batch runs: a range given up to
   * its new owners. Answered with {@link Swept}; resumable like a {@link Scan}.
   */
  public record Sweep(TokenRange range, String afterKey, int limit, ActorRef<Reply> replyTo)
      implements Command {}

  public sealed interface Reply extends CborSerializable {}

  /**
   * A reply that can answer a {@link Get} or {@link Put}: it echoes the request's {@code tag} and
   * {@code request} id (both 0 when it answers anything else).
   */
  public sealed interface TaggedReply extends Reply {
    int tag();

    long request();
  }

  /** {@code value} is null when the key was never written here; tombstones are returned. */
  public record ReadResult(String key, Versioned value, int tag, long request)
      implements TaggedReply {
    public ReadResult(String key, Versioned value, int tag) {
      this(key, value, tag, 0);
    }

    public ReadResult(String key, Versioned value) {
      this(key, value, 0);
    }
  }

  /** {@code stored} is what the replica holds after the put; {@code applied} if it was ours. */
  public record WriteResult(String key, Versioned stored, boolean applied, int tag, long request)
      implements TaggedReply {
    public WriteResult(String key, Versioned stored, boolean applied, int tag) {
      this(key, stored, applied, tag, 0);
    }

    public WriteResult(String key, Versioned stored, boolean applied) {
      this(key, stored, applied, 0);
    }
  }

  public record PurgeResult(String key, boolean purged) implements Reply {}

  /** {@code complete} when the range has no entries beyond these. */
  public record ScanResult(List<StoredEntry> entries, boolean complete) implements Reply {}

  public record Stats(long keys, long sizeBytes) implements Reply {}

  /** {@code lastKey} is where to resume; {@code complete} when the range holds nothing after it. */
  public record Swept(String lastKey, int deleted, boolean complete) implements Reply {}

  /** {@code tag} and {@code request} are the failed request's (0 for requests that carry none). */
  public record StorageFailed(String key, String reason, int tag, long request)
      implements TaggedReply {
    public StorageFailed(String key, String reason, int tag) {
      this(key, reason, tag, 0);
    }

    public StorageFailed(String key, String reason) {
      this(key, reason, 0);
    }
  }

  /**
   * This replica has not refilled the key's range since it lost its data, so its answer to a read
   * must not count toward a quorum.
   */
  public record PendingReplica(String key, int tag, long request) implements TaggedReply {
    public PendingReplica(String key, int tag) {
      this(key, tag, 0);
    }

    public PendingReplica(String key) {
      this(key, 0);
    }
  }

  /**
   * The request was sent at another ring epoch than this replica's ({@code epoch}): nothing was
   * read or stored. The side that is behind catches up; the coordinator retries.
   */
  public record WrongEpoch(String key, long epoch, int tag, long request) implements TaggedReply {
    public WrongEpoch(String key, long epoch, int tag) {
      this(key, epoch, tag, 0);
    }
  }

  /** Told of every group-committed batch, for {@code /metrics}. */
  @FunctionalInterface
  public interface BatchObserver {
    /**
     * A batch of {@code writes} puts and applies was committed in {@code nanos}; {@code applied} of
     * them were newer than what was stored (a batch with none writes nothing, so syncs nothing).
     */
    void committed(int writes, int applied, long nanos);
  }

  /** Whether writes are group-committed (see the class comment), and who hears of each batch. */
  public record WriteMode(boolean grouped, BatchObserver observer) {
    /** Each write reaches the engine as it arrives: the node's mode with {@code fsync = off}. */
    public static final WriteMode PER_WRITE = new WriteMode(false, (writes, applied, nanos) -> {});

    public static WriteMode grouped(BatchObserver observer) {
      return new WriteMode(true, observer);
    }
  }

  // A batch is committed at once when it reaches either bound, so one burst cannot build a
  // WriteBatch of unbounded size (values are up to dht.http.max-value-size each).
  static final int MAX_BATCH_WRITES = 1024;
  static final long MAX_BATCH_BYTES = 8L << 20;

  /** A storage actor with no ring: see {@link ReplicaState#UNFENCED}. */
  public static Behavior<Command> create(Supplier<StorageEngine> engine) {
    return create(engine, ReplicaState.UNFENCED, timestamp -> {});
  }

  /** A per-write storage actor (see {@link WriteMode#PER_WRITE}). */
  public static Behavior<Command> create(
      Supplier<StorageEngine> engine, ReplicaState state, LongConsumer observe) {
    return create(engine, state, observe, WriteMode.PER_WRITE);
  }

  /**
   * @param engine opened when the actor starts, on its dispatcher
   * @param state the ring epoch and ranges this node answers for, read on every request
   * @param observe told the timestamp of every version this replica is asked to store, so the
   *     node's hybrid clock moves past every write it has seen, not only those it coordinated
   * @param mode per write, or group commit
   */
  public static Behavior<Command> create(
      Supplier<StorageEngine> engine, ReplicaState state, LongConsumer observe, WriteMode mode) {
    return Behaviors.setup(
        context -> new StorageActor(context, engine.get(), state, observe, mode));
  }

  /** Sent to itself by the first write queued: the batch is committed when it comes back. */
  private enum Flush implements Command {
    INSTANCE
  }

  /** A write waiting for its batch; {@code tag} and {@code request} are 0 for an {@link Apply}. */
  private record Queued(
      String key, Versioned value, int tag, long request, ActorRef<Reply> replyTo) {}

  private final StorageEngine engine;
  private final ReplicaState state;
  private final LongConsumer observe;
  private final WriteMode mode;
  private final List<Queued> queued = new ArrayList<>();
  private long queuedBytes;
  private boolean flushSent;

  private StorageActor(
      ActorContext<Command> context,
      StorageEngine engine,
      ReplicaState state,
      LongConsumer observe,
      WriteMode mode) {
    super(context);
    this.engine = engine;
    this.state = state;
    this.observe = observe;
    this.mode = mode;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Get.class, this::onGet)
        .onMessage(Put.class, this::onPut)
        .onMessage(Apply.class, this::onApply)
        .onMessage(Purge.class, this::onPurge)
        .onMessage(Scan.class, this::onScan)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(Sweep.class, this::onSweep)
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onGet(Get get) {
    long epoch = state.epoch();
    if (get.epoch() != epoch) {
      fenced(get.epoch(), epoch);
      get.replyTo().tell(new WrongEpoch(get.key(), epoch, get.tag(), get.request()));
      return this;
    }
    reply(
        get.replyTo(),
        get.key(),
        get.tag(),
        get.request(),
        () ->
            state.readPending(Murmur3.token(get.key()))
                ? new PendingReplica(get.key(), get.tag(), get.request())
                : new ReadResult(
                    get.key(), engine.get(get.key()).orElse(null), get.tag(), get.request()));
    return this;
  }

  // Checked in this one actor, so once it has seen epoch e it accepts nothing sent at e - 1; a
  // queued write is committed before any later scan, so a fill that reads this replica at e holds
  // every write it accepted before.
  private Behavior<Command> onPut(Put put) {
    long epoch = state.epoch();
    if (put.epoch() != epoch) {
      fenced(put.epoch(), epoch);
      put.replyTo().tell(new WrongEpoch(put.key(), epoch, put.tag(), put.request()));
      return this;
    }
    observe.accept(put.value().version().timestamp());
    if (mode.grouped()) {
      enqueue(new Queued(put.key(), put.value(), put.tag(), put.request(), put.replyTo()));
      return this;
    }
    reply(
        put.replyTo(),
        put.key(),
        put.tag(),
        put.request(),
        () -> {
          Versioned stored = engine.put(put.key(), put.value());
          return new WriteResult(
              put.key(), stored, stored == put.value(), put.tag(), put.request());
        });
    return this;
  }

  private void fenced(long requested, long mine) {
    if (requested > mine) {
      state.behind(requested);
    }
  }

  /** Fills and anti-entropy store only inside the ranges this node replicates. */
  private Behavior<Command> onApply(Apply apply) {
    if (!state.holds(Murmur3.token(apply.key()))) {
      apply.replyTo().tell(new PendingReplica(apply.key()));
      return this;
    }
    observe.accept(apply.value().version().timestamp());
    if (mode.grouped()) {
      enqueue(new Queued(apply.key(), apply.value(), 0, 0, apply.replyTo()));
      return this;
    }
    reply(
        apply.replyTo(),
        apply.key(),
        () -> {
          Versioned stored = engine.put(apply.key(), apply.value());
          return new WriteResult(apply.key(), stored, stored == apply.value());
        });
    return this;
  }

  private void enqueue(Queued write) {
    queued.add(write);
    queuedBytes += write.value().value().length;
    if (queued.size() >= MAX_BATCH_WRITES || queuedBytes >= MAX_BATCH_BYTES) {
      commit();
    } else if (!flushSent) {
      flushSent = true;
      getContext().getSelf().tell(Flush.INSTANCE);
    }
  }

  private Behavior<Command> onFlush() {
    flushSent = false;
    commit();
    return this;
  }

  /** Writes the queue as one batch, then answers each write in it (see the class comment). */
  private void commit() {
    if (queued.isEmpty()) {
      return;
    }
    List<StorageEngine.Write> writes = new ArrayList<>(queued.size());
    for (Queued q : queued) {
      writes.add(new StorageEngine.Write(q.key(), q.value()));
    }
    long start = System.nanoTime();
    List<Versioned> stored;
    try {
      stored = engine.putAll(writes);
    } catch (StorageException | IllegalArgumentException e) {
      getContext()
          .getLog()
          .error("storage batch of {} writes failed: {}", queued.size(), e.getMessage());
      for (Queued q : queued) {
        q.replyTo().tell(new StorageFailed(q.key(), e.getMessage(), q.tag(), q.request()));
      }
      clearQueue();
      return;
    }
    long nanos = System.nanoTime() - start;
    int applied = 0;
    for (int i = 0; i < queued.size(); i++) {
      Queued q = queued.get(i);
      boolean mine = stored.get(i) == q.value();
      applied += mine ? 1 : 0;
      q.replyTo().tell(new WriteResult(q.key(), stored.get(i), mine, q.tag(), q.request()));
    }
    mode.observer().committed(queued.size(), applied, nanos);
    clearQueue();
  }

  private void clearQueue() {
    queued.clear();
    queuedBytes = 0;
  }

  private Behavior<Command> onPurge(Purge purge) {
    commit(); // a purge compares versions: it must see the writes that arrived before it
    reply(
        purge.replyTo(),
        purge.key(),
        () -> new PurgeResult(purge.key(), engine.purge(purge.key(), purge.expected())));
    return this;
  }

  private Behavior<Command> onScan(Scan scan) {
    commit(); // a fill or Merkle tree read at this epoch holds every write accepted before it
    reply(
        scan.replyTo(),
        null,
        () -> {
          List<StoredEntry> entries = engine.scan(scan.range(), scan.afterKey(), scan.limit());
          return new ScanResult(entries, entries.size() < scan.limit());
        });
    return this;
  }

  private Behavior<Command> onSweep(Sweep sweep) {
    commit();
    reply(
        sweep.replyTo(),
        null,
        () -> {
          List<StoredEntry> entries = engine.scan(sweep.range(), sweep.afterKey(), sweep.limit());
          int deleted = 0;
          for (StoredEntry e : entries) {
            // checked now, not when the sweep was planned: a later epoch may have given it back
            if (!state.holds(Murmur3.token(e.key()))
                && engine.purge(e.key(), e.value().version())) {
              deleted++;
            }
          }
          String last =
              entries.isEmpty() ? sweep.afterKey() : entries.get(entries.size() - 1).key();
          return new Swept(last, deleted, entries.size() < sweep.limit());
        });
    return this;
  }

  private Behavior<Command> onGetStats(GetStats get) {
    reply(
        get.replyTo(),
        null,
        () -> new Stats(engine.approximateKeyCount(), engine.approximateSizeBytes()));
    return this;
  }

  private void reply(ActorRef<Reply> replyTo, String key, Supplier<Reply> work) {
    reply(replyTo, key, 0, 0, work);
  }

  /** A failing engine call answers with {@link StorageFailed}; the actor keeps serving. */
  private void reply(
      ActorRef<Reply> replyTo, String key, int tag, long request, Supplier<Reply> work) {
    Reply reply;
    try {
      reply = work.get();
    } catch (StorageException | IllegalArgumentException e) {
      getContext().getLog().error("storage operation on key {} failed: {}", key, e.getMessage());
      reply = new StorageFailed(key, e.getMessage(), tag, request);
    }
    replyTo.tell(reply);
  }

  private Behavior<Command> onPostStop() {
    commit(); // accepted writes are stored, even if their answers find no one any more
    engine.close();
    getContext().getLog().info("storage closed");
    return this;
  }
}
