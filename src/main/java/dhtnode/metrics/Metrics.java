package dhtnode.metrics;

import dhtnode.common.Consistency;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Every meter of one node, in one Prometheus registry that {@code GET /metrics} scrapes. Created
 * once per node by the guardian and handed to whoever counts something. All meters are registered
 * here, up front, and looked up on the hot path by array index (operation x consistency level), so
 * recording a request allocates nothing and takes no lock beyond the meters' own atomics.
 * Thread-safe: routes, coordinators and actors record concurrently.
 *
 * <p>Names as scraped (each with the tag {@code node}):
 *
 * <ul>
 *   <li>{@code dht_requests_seconds} histogram (buckets 1 ms .. 5 s), by {@code op} and {@code
 *       consistency}; its {@code _count} is the request count
 *   <li>{@code dht_unavailable_total} 503s answered on {@code /d/}, by {@code op}; of them, {@code
 *       dht_timeouts_total} ran out of time
 *   <li>{@code dht_read_repairs_total} values written back to stale replicas by reads; {@code
 *       dht_read_speculations_total} reads that asked the rest of their read set because the R
 *       replicas asked first had not all answered within {@code read-speculation}
 *   <li>{@code dht_write_fallbacks_total} one-round writes that refusals kept from W; of them,
 *       {@code dht_write_fallbacks_unavailable_total} were answered 503
 *   <li>{@code dht_swim_probes_total}, {@code dht_swim_suspicions_total}, {@code
 *       dht_swim_deaths_total}, {@code dht_swim_refutations_total}, {@code
 *       dht_swim_probe_outcomes_total} by {@code outcome}, {@code dht_swim_probe_rtt_seconds} and
 *       {@code dht_swim_tick_lateness_seconds} histograms, {@code dht_swim_members} by {@code
 *       status}
 *   <li>{@code dht_node_info} (engine, fsync), {@code dht_ring_epoch}, {@code dht_storage_keys},
 *       {@code dht_storage_size_bytes}
 *   <li>group commit (fsync on): {@code dht_storage_batch_writes} histogram of writes per batch
 *       (buckets 1 .. 1024), {@code dht_storage_synced_batches_total}, {@code
 *       dht_storage_batch_seconds} histogram of the time to write and sync a batch
 *   <li>{@code dht_stabilizer_keys_streamed_total}, {@code dht_stabilizer_merkle_mismatches_total}
 *   <li>{@code jvm_memory_*}, {@code jvm_gc_*}, {@code jvm_threads_*} (only with {@link
 *       #withJvmMetrics})
 * </ul>
 */
public final class Metrics implements AutoCloseable {

  /** What a data request does; the index into the request meters. */
  public enum Op {
    READ,
    WRITE,
    DELETE;

    final String tag = name().toLowerCase(Locale.ROOT);
  }

  private static final Consistency[] LEVELS = Consistency.values();

  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
    Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
    Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5)
  };

  private final PrometheusMeterRegistry registry;
  private final Timer[][] requests = new Timer[Op.values().length][LEVELS.length];
  private final Counter[] unavailable = new Counter[Op.values().length];
  private final Counter[] timeouts = new Counter[Op.values().length];
  private final Counter readRepairs;
  private final Counter readSpeculations;
  private final Counter fenced;
  private final Counter writeFallbacks;
  private final Counter writeFallbacksUnavailable;
  private final Counter probes;
  private final Counter suspicions;
  private final Counter deaths;
  private final Timer swimRoundTrip;
  private final Timer swimTickLateness;
  private final Counter swimRefutations;
  private final java.util.Map<String, Counter> swimOutcomes =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<String, AtomicLong> swimMembers =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Counter keysStreamed;
  private final Counter merkleMismatches;
  private final Counter keysHandedOff;
  private final Counter tombstonesPurged;
  private final DistributionSummary batchWrites;
  private final Counter syncedBatches;
  private final Timer batchTime;
  private final AtomicLong storageKeys = new AtomicLong();
  private final AtomicLong storageBytes = new AtomicLong();
  private JvmGcMetrics gcMetrics;

  /** A registry for node {@code node}, without JVM meters (see {@link #withJvmMetrics}). */
  public Metrics(String node) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("node", node);
    for (Op op : Op.values()) {
      for (int level = 0; level < LEVELS.length; level++) {
        requests[op.ordinal()][level] =
            Timer.builder("dht.requests")
                .description("Data requests served on /d/, from routing to the response")
                .tags("op", op.tag, "consistency", LEVELS[level].name().toLowerCase(Locale.ROOT))
                // a dozen fixed buckets around what a request takes (the timeout is seconds);
                // percentiles come from them with histogram_quantile(), and add up across nodes.
                // (Micrometer's Prometheus registry drops client-side percentiles on a histogram,
                // and its default histogram has ~70 buckets per series.)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
      }
      unavailable[op.ordinal()] =
          Counter.builder("dht.unavailable")
              .description("Data requests answered 503 (quorum not reached or timed out)")
              .tag("op", op.tag)
              .register(registry);
      timeouts[op.ordinal()] =
          Counter.builder("dht.timeouts")
              .description("Data requests that ran out of time (a subset of dht_unavailable_total)")
              .tag("op", op.tag)
              .register(registry);
    }
    readRepairs = counter("dht.read.repairs", "Values written back to stale replicas by reads");
    readSpeculations =
        counter(
            "dht.read.speculations",
            "Reads that asked the rest of their read set after read-speculation without a quorum");
    fenced =
        counter(
            "dht.requests.fenced",
            "Coordinator attempts retried because a replica was at another ring epoch");
    writeFallbacks =
        counter(
            "dht.write.fallbacks",
            "One-round writes that replicas holding a newer version kept from W (the fallback path)");
    writeFallbacksUnavailable =
        counter(
            "dht.write.fallbacks.unavailable",
            "Of the fallbacks, writes answered 503 (outcome unknown or not written)");
    probes =
        counter(
            "dht.swim.probes",
            "SWIM probes this node started (one per protocol period with a target)");
    suspicions = counter("dht.swim.suspicions", "Members this node newly holds SUSPECT");
    deaths = counter("dht.swim.deaths", "Members this node declared or learnt DEAD");
    swimRoundTrip =
        Timer.builder("dht.swim.probe.rtt")
            .description("SWIM direct probe round trip (PING to ACK)")
            .serviceLevelObjectives(BUCKETS)
            .register(registry);
    swimTickLateness =
        Timer.builder("dht.swim.tick.lateness")
            .description("How late SWIM protocol-period ticks ran (a busy or paused node)")
            .serviceLevelObjectives(BUCKETS)
            .register(registry);
    swimRefutations =
        counter(
            "dht.swim.refutations",
            "Times this node refuted a claim that it is SUSPECT, DEAD or LEFT");
    keysStreamed =
        counter(
            "dht.stabilizer.keys.streamed",
            "Keys this node fetched from other replicas to fill ranges it gained (handoff)");
    merkleMismatches =
        counter(
            "dht.stabilizer.merkle.mismatches",
            "Merkle tree leaves that differed between replicas");
    keysHandedOff =
        counter(
            "dht.stabilizer.keys.handed.off",
            "Keys deleted here after the new owners of their range confirmed they hold it");
    tombstonesPurged =
        counter(
            "dht.stabilizer.tombstones.purged",
            "Tombstones older than the grace period purged from every replica by this node as primary");
    batchWrites =
        DistributionSummary.builder("dht.storage.batch.writes")
            .description("Writes per group-committed storage batch (fsync on)")
            .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
            .register(registry);
    syncedBatches =
        counter(
            "dht.storage.synced.batches",
            "Group-committed storage batches written with one sync (fsync on; a batch whose writes"
                + " were all refused writes nothing and is not counted)");
    batchTime =
        Timer.builder("dht.storage.batch")
            .description("Time to write (and with fsync, sync) one group-committed storage batch")
            .serviceLevelObjectives(BUCKETS)
            .register(registry);
    Gauge.builder("dht.storage.keys", storageKeys, AtomicLong::get)
        .description("Keys in local storage (RocksDB's estimate), refreshed periodically")
        .register(registry);
    Gauge.builder("dht.storage.size", storageBytes, AtomicLong::get)
        .description("Local storage size: SST files plus memtables, refreshed periodically")
        .baseUnit("bytes")
        .register(registry);
  }

  /** Production registry: also JVM heap, GC and thread meters. */
  public static Metrics withJvmMetrics(String node) {
    Metrics m = new Metrics(node);
    new JvmMemoryMetrics().bindTo(m.registry);
    new JvmThreadMetrics().bindTo(m.registry);
    m.gcMetrics = new JvmGcMetrics();
    m.gcMetrics.bindTo(m.registry);
    return m;
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).register(registry);
  }

  // ---- requests (routes) ----

  /** A data request took {@code nanos} from routing to its response. */
  public void request(Op op, Consistency level, long nanos) {
    requests[op.ordinal()][level.ordinal()].record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A data request was answered 503. */
  public void unavailable(Op op) {
    unavailable[op.ordinal()].increment();
  }

  /** A data request ran out of time (counted as well as {@link #unavailable}). */
  public void timeout(Op op) {
    timeouts[op.ordinal()].increment();
  }

  // ---- replication ----

  public void readRepair() {
    readRepairs.increment();
  }

  public void readSpeculated() {
    readSpeculations.increment();
  }

  /** A coordinator attempt was fenced by a replica at another ring epoch and retried. */
  public void fenced() {
    fenced.increment();
  }

  /** A one-round write was kept from W by refusals (replicas holding a newer version). */
  public void writeFallback() {
    writeFallbacks.increment();
  }

  /** A write counted by {@link #writeFallback} ended in a 503. */
  public void writeFallbackUnavailable() {
    writeFallbacksUnavailable.increment();
  }

  // ---- membership ----

  public void swimProbe() {
    probes.increment();
  }

  public void swimSuspicion() {
    suspicions.increment();
  }

  public void swimDeath() {
    deaths.increment();
  }

  /** A direct SWIM probe was answered after {@code nanos}. */
  public void swimProbeRoundTrip(long nanos) {
    swimRoundTrip.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A protocol-period tick ran {@code nanos} late (a busy or paused node). */
  public void swimTickLateness(long nanos) {
    swimTickLateness.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void swimRefutation() {
    swimRefutations.increment();
  }

  /** A probe ended: {@code outcome} is acked_direct, acked_indirect or failed. */
  public void swimProbeOutcome(String outcome) {
    swimOutcomes
        .computeIfAbsent(
            outcome,
            o ->
                Counter.builder("dht.swim.probe.outcomes")
                    .description(
                        "SWIM probes by how they ended (direct ACK, ACK relayed by a PING_REQ helper, none)")
                    .tag("outcome", o)
                    .register(registry))
        .increment();
  }

  /** Members this node holds in {@code status} (ALIVE, SUSPECT, DEAD, LEFT), self included. */
  public void swimMembers(String status, long count) {
    swimMembers
        .computeIfAbsent(
            status,
            st -> {
              AtomicLong value = new AtomicLong();
              Gauge.builder("dht.swim.members", value, AtomicLong::get)
                  .description("Members this node holds in each SWIM status")
                  .tag("status", st)
                  .register(registry);
              return value;
            })
        .set(count);
  }

  // ---- stabilization ----

  /** {@code n} keys were streamed to another replica (handoff or anti-entropy repair). */
  public void keysStreamed(long n) {
    keysStreamed.increment(n);
  }

  /** {@code n} Merkle leaves (ranges) differed in a comparison with another replica. */
  public void keysHandedOff(long n) {
    keysHandedOff.increment(n);
  }

  public void tombstonesPurged(long n) {
    tombstonesPurged.increment(n);
  }

  public void merkleMismatches(long n) {
    merkleMismatches.increment(n);
  }

  // ---- gauges fed from elsewhere ----

  /** The ring's epoch, read at each scrape (e.g. {@code () -> ringView.current().epoch()}). */
  public void ringEpoch(LongSupplier epoch) {
    // held strongly: Micrometer holds a gauge's object weakly, and the caller keeps no other
    // reference to this supplier, so the first GC would turn the gauge into NaN
    Gauge.builder("dht.ring.epoch", epoch, s -> s.getAsLong())
        .strongReference(true)
        .description(
            "The agreed ring epoch this node knows (0: in no ring yet); grows with every committed ring change")
        .register(registry);
  }

  /**
   * {@code dht_ring_ranges_in_transition}: token ranges whose replica set the current epoch moves.
   */
  public void ringRangesInTransition(LongSupplier ranges) {
    Gauge.builder("dht.ring.ranges.in.transition", ranges, s -> s.getAsLong())
        .strongReference(true) // as for the epoch
        .description(
            "Token ranges whose replica set the current ring epoch is moving (0 when the epoch is stable)")
        .register(registry);
  }

  /**
   * {@code dht_node_info{engine, fsync} 1}: how this node stores data, for whoever reads figures.
   */
  public void nodeInfo(String engine, boolean fsync) {
    Gauge.builder("dht.node.info", () -> 1)
        .description("Constant 1; the labels say the storage engine and durability mode")
        .tags("engine", engine, "fsync", fsync ? "on" : "off")
        .register(registry);
  }

  // ---- storage ----

  /**
   * The storage actor committed a batch of {@code writes}, {@code applied} of them newer than what
   * was stored, in {@code nanos}.
   */
  public void storageBatch(int writes, int applied, long nanos) {
    batchWrites.record(writes);
    if (applied > 0) {
      syncedBatches.increment();
    }
    batchTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Latest storage statistics, set by the {@link StoragePoller}. */
  public void storage(long keys, long sizeBytes) {
    storageKeys.set(keys);
    storageBytes.set(sizeBytes);
  }

  /**
   * Every data request so far, all operations and consistency levels together: what the cluster
   * page turns into a request rate and a p99 by taking the difference of two readings.
   *
   * @param count requests answered
   * @param sumSeconds their total duration
   * @param bounds the histogram's upper bounds in seconds, ascending
   * @param cumulative requests that took at most {@code bounds[i]}; those above the last bound are
   *     the rest of {@code count}
   * @param unavailable of the requests, those answered 503
   */
  public record RequestTotals(
      long count, double sumSeconds, double[] bounds, long[] cumulative, long unavailable) {}

  /** A reading of the request meters (see {@link RequestTotals}). */
  public RequestTotals requestTotals() {
    double[] bounds = new double[BUCKETS.length];
    for (int i = 0; i < BUCKETS.length; i++) {
      bounds[i] = BUCKETS[i].toNanos() / 1e9;
    }
    long[] cumulative = new long[BUCKETS.length];
    long count = 0;
    double sum = 0;
    for (Timer[] byLevel : requests) {
      for (Timer timer : byLevel) {
        // one snapshot per timer, so its count, sum and buckets agree with each other
        HistogramSnapshot snapshot = timer.takeSnapshot();
        count += snapshot.count();
        sum += snapshot.total(TimeUnit.SECONDS);
        for (CountAtBucket bucket : snapshot.histogramCounts()) {
          int i = Arrays.binarySearch(bounds, bucket.bucket(TimeUnit.SECONDS));
          if (i >= 0) {
            cumulative[i] += (long) bucket.count();
          }
        }
      }
    }
    long failed = 0;
    for (Counter c : unavailable) {
      failed += (long) c.count();
    }
    return new RequestTotals(count, sum, bounds, cumulative, failed);
  }

  /** The Prometheus text exposition format (0.0.4) of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /** Content type of {@link #scrape()}. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    if (gcMetrics != null) {
      gcMetrics.close();
    }
    registry.close();
  }
}
