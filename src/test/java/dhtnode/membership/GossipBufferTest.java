package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GossipBufferTest {

  private static Member member(String name, long incarnation) {
    return new Member(name, "127.0.0.1", 7001, 8001, MemberStatus.ALIVE, incarnation);
  }

  private static List<String> names(List<Member> members) {
    return members.stream().map(Member::name).toList();
  }

  @Test
  void retransmitLimitGrowsWithLogOfClusterSizeAndIsAtLeastOne() {
    assertEquals(1, GossipBuffer.retransmitLimit(4, 0));
    assertEquals(4, GossipBuffer.retransmitLimit(4, 1));
    assertEquals(4, GossipBuffer.retransmitLimit(4, 9));
    assertEquals(8, GossipBuffer.retransmitLimit(4, 10));
    assertEquals(12, GossipBuffer.retransmitLimit(4, 100));
    assertEquals(16, GossipBuffer.retransmitLimit(4, 1000));
    assertEquals(1, GossipBuffer.retransmitLimit(0.1, 2));
  }

  @Test
  void eachUpdateIsSentExactlyLimitTimesThenDropped() {
    GossipBuffer buffer = new GossipBuffer();
    buffer.add(member("a", 1));
    for (int i = 0; i < 3; i++) {
      assertEquals(List.of("a"), names(buffer.take(1000, 3, WireCodec::memberSize)));
    }
    assertTrue(buffer.take(1000, 3, WireCodec::memberSize).isEmpty());
    assertEquals(0, buffer.size());
  }

  @Test
  void leastSentThenNewestComeFirst() {
    GossipBuffer buffer = new GossipBuffer();
    buffer.add(member("a", 1));
    buffer.add(member("b", 1));
    // one slot per datagram: b is newest, then a (never sent) beats b (sent once)
    int one = WireCodec.memberSize(member("a", 1));
    assertEquals(List.of("b"), names(buffer.take(one, 5, WireCodec::memberSize)));
    assertEquals(List.of("a"), names(buffer.take(one, 5, WireCodec::memberSize)));
    buffer.add(member("c", 1));
    assertEquals(List.of("c"), names(buffer.take(one, 5, WireCodec::memberSize)));
    // all sent once now: newest first
    assertEquals(List.of("c"), names(buffer.take(one, 5, WireCodec::memberSize)));
    assertEquals(List.of("b"), names(buffer.take(one, 5, WireCodec::memberSize)));
    assertEquals(List.of("a"), names(buffer.take(one, 5, WireCodec::memberSize)));
  }

  @Test
  void takeStaysWithinTheByteBudget() {
    GossipBuffer buffer = new GossipBuffer();
    for (int i = 0; i < 100; i++) {
      buffer.add(member("node" + i, 1));
    }
    int budget = 500;
    List<Member> taken = buffer.take(budget, 5, WireCodec::memberSize);
    int used = taken.stream().mapToInt(WireCodec::memberSize).sum();
    assertTrue(used <= budget, "used " + used);
    assertTrue(budget - used < WireCodec.memberSize(member("node10", 1)), "room left for one more");
  }

  @Test
  void aNewerUpdateReplacesTheOlderAndIsSentAfresh() {
    GossipBuffer buffer = new GossipBuffer();
    buffer.add(member("a", 1));
    buffer.take(1000, 2, WireCodec::memberSize);
    buffer.add(member("a", 2).withStatus(MemberStatus.SUSPECT, 2));
    assertEquals(1, buffer.size());
    assertEquals(
        List.of(member("a", 2).withStatus(MemberStatus.SUSPECT, 2)),
        buffer.take(1000, 2, WireCodec::memberSize));
    assertEquals(1, buffer.take(1000, 2, WireCodec::memberSize).size());
    assertTrue(buffer.take(1000, 2, WireCodec::memberSize).isEmpty());
  }
}
