package dhtnode.storage;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.CborSerializable;
import dhtnode.ring.Murmur3;
import dhtnode.ring.TokenRange;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;
import java.util.function.Supplier;

/**
 * Owns this node's {@link StorageEngine}: the only actor that touches it, so last-writer-wins
 * compare-and-put is atomic without locks. It runs on the dedicated storage dispatcher (see
 * {@code dht.storage.dispatcher}), never on Akka's default one, because engine calls block on
 * disk. Local and remote coordinators talk to it with the same messages. The engine is closed when
 * the actor stops, which coordinated shutdown does on SIGTERM.
 */
public final class StorageActor extends AbstractBehavior<StorageActor.Command> {

  /** Config path of the dispatcher this actor must be spawned on. */
  public static final String DISPATCHER = "dht.storage.dispatcher";

  public sealed interface Command extends CborSerializable {}

  /**
   * {@code tag} is echoed in the reply, so one message adapter can tell apart the replies to many
   * requests (the coordinator's replica and phase); callers that ask one at a time leave it 0.
   */
  public record Get(String key, int tag, ActorRef<Reply> replyTo) implements Command {
    public Get(String key, ActorRef<Reply> replyTo) {
      this(key, 0, replyTo);
    }
  }

  /** {@code tag} is echoed in the reply, as for {@link Get}. */
  public record Put(String key, Versioned value, int tag, ActorRef<Reply> replyTo) implements Command {
    public Put(String key, Versioned value, ActorRef<Reply> replyTo) {
      this(key, value, 0, replyTo);
    }
  }

  /**
   * Stores a value the stabilizer moves between replicas (handoff, anti-entropy): like
   * {@link Put}, but always answered with {@link WriteResult}, pending or not, because filling a
   * pending range is exactly what it is for.
   */
  public record Apply(String key, Versioned value, ActorRef<Reply> replyTo) implements Command {}

  public record Purge(String key, Version expected, ActorRef<Reply> replyTo) implements Command {}

  public record Scan(TokenRange range, String afterKey, int limit, ActorRef<Reply> replyTo)
      implements Command {}

  public record GetStats(ActorRef<Reply> replyTo) implements Command {}

  /**
   * Deletes the next {@code limit} entries of {@code range} after {@code afterKey} (null: from the
   * start): a range handed off to its new owners, or a copy too old to resync. Answered with
   * {@link Swept}; resumable like a {@link Scan}.
   */
  public record Sweep(TokenRange range, String afterKey, int limit, ActorRef<Reply> replyTo)
      implements Command {}

  public sealed interface Reply extends CborSerializable {}

  /** {@code value} is null when the key was never written here; tombstones are returned. */
  public record ReadResult(String key, Versioned value, int tag) implements Reply {
    public ReadResult(String key, Versioned value) {
      this(key, value, 0);
    }
  }

  /** {@code stored} is what the replica holds after the put; {@code applied} if it was ours. */
  public record WriteResult(String key, Versioned stored, boolean applied, int tag) implements Reply {
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

  /** {@code tag} is the failed request's (0 for requests that carry none). */
  public record StorageFailed(String key, String reason, int tag) implements Reply {
    public StorageFailed(String key, String reason) {
      this(key, reason, 0);
    }
  }

  /**
   * This replica has not yet been filled for the key's range (it joined, or the ring changed),
   * so its answer must not count toward a quorum. A {@link Put} was still applied, unless the
   * range was handed off and deleted here (then nothing is stored).
   */
  public record PendingReplica(String key, int tag) implements Reply {
    public PendingReplica(String key) {
      this(key, 0);
    }
  }

  public static Behavior<Command> create(Supplier<StorageEngine> engine) {
    return create(engine, token -> false);
  }

  public static Behavior<Command> create(Supplier<StorageEngine> engine, LongPredicate pending) {
    return create(engine, pending, timestamp -> { });
  }

  /**
   * @param pending whether this node is still pending (not yet filled) for a token
   * @param observe told the timestamp of every version this replica is asked to store, so the
   *     node's hybrid clock moves past every write it has seen, not only those it coordinated
   */
  public static Behavior<Command> create(
      Supplier<StorageEngine> engine, LongPredicate pending, LongConsumer observe) {
    return create(engine, pending, token -> false, observe);
  }

  /**
   * @param foreign whether a token is in a range this node handed off and deleted: it neither
   *     stores writes there nor answers reads, whatever ring the sender uses
   */
  public static Behavior<Command> create(
      Supplier<StorageEngine> engine, LongPredicate pending, LongPredicate foreign, LongConsumer observe) {
    return Behaviors.setup(context -> new StorageActor(context, engine.get(), pending, foreign, observe));
  }

  private final StorageEngine engine;
  private final LongPredicate pending;
  private final LongPredicate foreign;
  private final LongConsumer observe;

  private StorageActor(ActorContext<Command> context, StorageEngine engine, LongPredicate pending,
      LongPredicate foreign, LongConsumer observe) {
    super(context);
    this.engine = engine;
    this.pending = pending;
    this.foreign = foreign;
    this.observe = observe;
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
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onGet(Get get) {
    long token = Murmur3.token(get.key());
    reply(get.replyTo(), get.key(), get.tag(), () -> pending.test(token) || foreign.test(token)
        ? new PendingReplica(get.key(), get.tag())
        : new ReadResult(get.key(), engine.get(get.key()).orElse(null), get.tag()));
    return this;
  }

  private Behavior<Command> onPut(Put put) {
    long token = Murmur3.token(put.key());
    if (foreign.test(token)) {
      put.replyTo().tell(new PendingReplica(put.key(), put.tag()));
      return this;
    }
    observe.accept(put.value().version().timestamp());
    reply(put.replyTo(), put.key(), put.tag(), () -> {
      Versioned stored = engine.put(put.key(), put.value());
      return pending.test(token)
          ? new PendingReplica(put.key(), put.tag())
          : new WriteResult(put.key(), stored, stored == put.value(), put.tag());
    });
    return this;
  }

  private Behavior<Command> onApply(Apply apply) {
    if (foreign.test(Murmur3.token(apply.key()))) {
      apply.replyTo().tell(new PendingReplica(apply.key()));
      return this;
    }
    observe.accept(apply.value().version().timestamp());
    reply(apply.replyTo(), apply.key(), () -> {
      Versioned stored = engine.put(apply.key(), apply.value());
      return new WriteResult(apply.key(), stored, stored == apply.value());
    });
    return this;
  }


  private Behavior<Command> onPurge(Purge purge) {
    reply(purge.replyTo(), purge.key(),
        () -> new PurgeResult(purge.key(), engine.purge(purge.key(), purge.expected())));
    return this;
  }

  private Behavior<Command> onScan(Scan scan) {
    reply(scan.replyTo(), null, () -> {
      List<StoredEntry> entries = engine.scan(scan.range(), scan.afterKey(), scan.limit());
      return new ScanResult(entries, entries.size() < scan.limit());
    });
    return this;
  }

  private Behavior<Command> onSweep(Sweep sweep) {
    reply(sweep.replyTo(), null, () -> {
      List<StoredEntry> entries = engine.scan(sweep.range(), sweep.afterKey(), sweep.limit());
      int deleted = 0;
      for (StoredEntry e : entries) {
        if (engine.purge(e.key(), e.value().version())) {
          deleted++;
        }
      }
      String last = entries.isEmpty() ? sweep.afterKey() : entries.get(entries.size() - 1).key();
      return new Swept(last, deleted, entries.size() < sweep.limit());
    });
    return this;
  }

  private Behavior<Command> onGetStats(GetStats get) {
    reply(get.replyTo(), null, () -> new Stats(engine.approximateKeyCount(), engine.approximateSizeBytes()));
    return this;
  }

  private void reply(ActorRef<Reply> replyTo, String key, Supplier<Reply> work) {
    reply(replyTo, key, 0, work);
  }

  /** A failing engine call answers with {@link StorageFailed}; the actor keeps serving. */
  private void reply(ActorRef<Reply> replyTo, String key, int tag, Supplier<Reply> work) {
    Reply reply;
    try {
      reply = work.get();
    } catch (StorageException | IllegalArgumentException e) {
      getContext().getLog().error("storage operation on key {} failed: {}", key, e.getMessage());
      reply = new StorageFailed(key, e.getMessage(), tag);
    }
    replyTo.tell(reply);
  }

  private Behavior<Command> onPostStop() {
    engine.close();
    getContext().getLog().info("storage closed");
    return this;
  }
}
