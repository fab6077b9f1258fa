package dhtnode.bench;

import dhtnode.storage.Version;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** Last-writer-wins comparison, done on every put and every quorum reply. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class VersionBench {
  Version older = new Version(1_000L << 16, "node1");
  Version newer = new Version(1_001L << 16, "node2");

  /** Same timestamp: the writer's name breaks the tie. */
  Version tieA = new Version(1_000L << 16, "node1");

  Version tieB = new Version(1_000L << 16, "node2");

  @Benchmark
  public boolean newerByTimestamp() {
    return newer.isNewerThan(older);
  }

  @Benchmark
  public boolean newerByWriterTieBreak() {
    return tieB.isNewerThan(tieA);
  }

  @Benchmark
  public int compareTo() {
    return older.compareTo(newer);
  }
}
