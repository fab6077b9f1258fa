package dhtnode.bench;

import dhtnode.storage.RocksDbEngine;
import dhtnode.storage.StorageEngine;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What group commit saves on RocksDB with fsync on: {@code batch} writes of 100-byte values as
 * {@code batch} single synced puts (one fsync each, the path before group commit) against one
 * {@code putAll} (one WriteBatch, one fsync). Scores are per write. The database lives in a
 * temporary directory under {@code java.io.tmpdir}, so the fsync is that disk's: run it on the disk
 * the nodes use (a tmpfs would make every sync free).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GroupCommitBench {
  private static final int KEYS = 10_000;
  private static final int MAX_BATCH = 64;

  @Param({"1", "8", "64"})
  int batch;

  StorageEngine store;
  Path dir;
  String[] keys;
  byte[] value = new byte[100];
  long clock;
  int next;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    dir = Files.createTempDirectory("dht-jmh-group-commit");
    store = new RocksDbEngine(dir, true, 64L << 20);
    keys = new String[KEYS];
    List<StorageEngine.Write> preload = new ArrayList<>(KEYS);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key" + i;
      preload.add(new StorageEngine.Write(keys[i], write()));
    }
    store.putAll(preload);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    store.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private Versioned write() {
    return Versioned.of(value, "application/octet-stream", new Version(++clock, "node1"));
  }

  private String nextKey() {
    next = next + 1 == KEYS ? 0 : next + 1;
    return keys[next];
  }

  /** Before group commit: each write is read, compared and written with its own fsync. */
  @Benchmark
  @OperationsPerInvocation(MAX_BATCH)
  public Versioned singleSyncedPuts() {
    Versioned last = null;
    for (int i = 0; i < MAX_BATCH; i++) {
      last = store.put(nextKey(), write());
    }
    return last;
  }

  /** Group commit: the same writes in batches of {@code batch}, one fsync per batch. */
  @Benchmark
  @OperationsPerInvocation(MAX_BATCH)
  public List<Versioned> groupCommitted() {
    List<Versioned> last = null;
    for (int done = 0; done < MAX_BATCH; done += batch) {
      List<StorageEngine.Write> writes = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        writes.add(new StorageEngine.Write(nextKey(), write()));
      }
      last = store.putAll(writes);
    }
    return last;
  }
}
