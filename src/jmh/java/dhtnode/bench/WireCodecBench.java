package dhtnode.bench;

import dhtnode.membership.Member;
import dhtnode.membership.MemberStatus;
import dhtnode.membership.SwimMessage;
import dhtnode.membership.WireCodec;
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

/** A SWIM PING with piggybacked gossip, encoded to and decoded from its datagram bytes. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class WireCodecBench {
  /** Members gossiped on the datagram (a full 1400-byte datagram holds about 20). */
  @Param({"0", "8"})
  int gossip;

  SwimMessage ping;
  byte[] bytes;

  @Setup
  public void setup() {
    List<Member> updates = new ArrayList<>();
    for (int i = 0; i < gossip; i++) {
      updates.add(
          new Member(
              "node" + i,
              "127.0.0.1",
              7000 + i,
              8000 + i,
              MemberStatus.ALIVE,
              1_700_000_000_000L + i));
    }
    Member self =
        new Member("node1", "127.0.0.1", 7000, 8000, MemberStatus.ALIVE, 1_700_000_000_000L);
    ping = new SwimMessage.Ping(self, 42, "node2", updates);
    bytes = WireCodec.encode(ping);
  }

  @Benchmark
  public byte[] encode() {
    return WireCodec.encode(ping);
  }

  @Benchmark
  public SwimMessage decode() throws WireCodec.MalformedDatagramException {
    return WireCodec.decode(bytes);
  }
}
