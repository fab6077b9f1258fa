package dhtnode.bench;

import dhtnode.ring.HashRing;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The per-request ring lookup: key to its N replicas (Murmur3 of the key, then a binary search).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HashRingBench {
  @Param({"3", "10"})
  int members;

  HashRing ring;
  String[] keys;
  int next;

  @Setup
  public void setup() {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= members; i++) {
      names.add("node" + i);
    }
    ring = HashRing.of(names, 256, 3);
    keys = new String[1024];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "key" + i;
    }
  }

  @Benchmark
  public List<String> preferenceList() {
    next = (next + 1) & (keys.length - 1);
    return ring.preferenceList(keys[next]);
  }
}
