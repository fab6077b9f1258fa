package dhtnode.bench;

import dhtnode.storage.InMemoryEngine;
import dhtnode.storage.RocksDbEngine;
import dhtnode.storage.StorageEngine;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * get and put of 100-byte values over 10,000 preloaded keys, on RocksDB (a temporary directory,
 * fsync off, the node's default) and the in-memory engine. Every put carries a newer version, so it
 * is applied (read, compare, write), as a client write is.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StorageEngineBench {
  private static final int KEYS = 10_000;

  @Param({"rocksdb", "memory"})
  String engine;

  StorageEngine store;
  Path dir;
  String[] keys;
  byte[] value = new byte[100];
  long clock;
  int next;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    if (engine.equals("rocksdb")) {
      dir = Files.createTempDirectory("dht-jmh-rocksdb");
      store = new RocksDbEngine(dir, false, 64L << 20);
    } else {
      store = new InMemoryEngine();
    }
    keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key" + i;
      store.put(
          keys[i], Versioned.of(value, "application/octet-stream", new Version(++clock, "node1")));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    store.close();
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  private String nextKey() {
    next = next + 1 == KEYS ? 0 : next + 1;
    return keys[next];
  }

  @Benchmark
  public Optional<Versioned> get() {
    return store.get(nextKey());
  }

  @Benchmark
  public Versioned put() {
    return store.put(
        nextKey(), Versioned.of(value, "application/octet-stream", new Version(++clock, "node1")));
  }
}
