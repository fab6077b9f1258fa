package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WireCodecTest {
  private static final Member FROM =
      new Member("node1", "127.0.0.1", 7000, 8000, MemberStatus.ALIVE, 1764111111111L);
  private static final List<Member> GOSSIP =
      List.of(
          new Member("node2", "10.0.0.2", 7001, 8001, MemberStatus.SUSPECT, 3),
          new Member("nöde3", "host-3.example", 65535, 1, MemberStatus.DEAD, Long.MAX_VALUE),
          new Member("n4", "h", 7003, 8003, MemberStatus.LEFT, 0));

  private static final List<SwimMessage> ALL =
      List.of(
          new SwimMessage.Ping(FROM, 1, "node2", GOSSIP),
          new SwimMessage.PingReq(FROM, -5, GOSSIP.get(0), List.of()),
          new SwimMessage.Ack(FROM, Long.MAX_VALUE, "node2", GOSSIP),
          new SwimMessage.Join(FROM, 0, List.of()),
          new SwimMessage.JoinReply(FROM, 9, GOSSIP),
          new SwimMessage.Join(FROM, 7, "prod", GOSSIP, java.util.Map.of()),
          new SwimMessage.JoinRefused(FROM, 8, "prod"));

  @Test
  void everyMessageSurvivesARoundTrip() throws Exception {
    for (SwimMessage message : ALL) {
      assertEquals(message, WireCodec.decode(WireCodec.encode(message)));
    }
  }

  @Test
  void memberSizeIsTheEncodedSizeOfOneGossipEntry() {
    SwimMessage empty = new SwimMessage.Ping(FROM, 1, "node2", List.of());
    SwimMessage one = new SwimMessage.Ping(FROM, 1, "node2", List.of(GOSSIP.get(1)));
    assertEquals(
        WireCodec.encode(one).length - WireCodec.encode(empty).length,
        WireCodec.memberSize(GOSSIP.get(1)));
  }

  @Test
  void everyTruncationIsRejected() {
    for (SwimMessage message : ALL) {
      byte[] bytes = WireCodec.encode(message);
      for (int length = 0; length < bytes.length; length++) {
        byte[] truncated = Arrays.copyOf(bytes, length);
        assertThrows(WireCodec.MalformedDatagramException.class, () -> WireCodec.decode(truncated));
      }
    }
  }

  @Test
  void wrongMagicVersionTypeStatusOrTrailingBytesAreRejected() {
    byte[] good = WireCodec.encode(ALL.get(0));
    assertRejected(with(good, 0, (byte) 'X'));
    assertRejected(with(good, 1, (byte) 'X'));
    assertRejected(with(good, 2, (byte) 2));
    assertRejected(with(good, 3, (byte) 9));
    // status byte of the sender record: after type, name (1+5), host (1+9), ports (4)
    assertRejected(with(good, 4 + 6 + 10 + 4, (byte) 7));
    assertRejected(Arrays.copyOf(good, good.length + 1));
  }

  @Test
  void randomBytesNeverThrowAnythingButMalformed() {
    Random random = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      byte[] garbage = new byte[random.nextInt(200)];
      random.nextBytes(garbage);
      if (garbage.length > 3 && random.nextBoolean()) {
        // also get past the magic and version, to exercise the body parser
        garbage[0] = 'S';
        garbage[1] = 'W';
        garbage[2] = 1;
        garbage[3] = (byte) (1 + random.nextInt(5));
      }
      try {
        WireCodec.decode(garbage);
      } catch (WireCodec.MalformedDatagramException expected) {
        // the only allowed failure
      }
    }
  }

  @Test
  void flippedBitsInAValidDatagramDecodeOrAreRejectedButNeverCrash() {
    Random random = new Random(7);
    byte[] good = WireCodec.encode(ALL.get(2));
    for (int i = 0; i < 20_000; i++) {
      byte[] bad = good.clone();
      bad[random.nextInt(bad.length)] ^= (byte) (1 << random.nextInt(8));
      try {
        WireCodec.decode(bad);
      } catch (WireCodec.MalformedDatagramException expected) {
        // the only allowed failure
      }
    }
  }

  private static byte[] with(byte[] bytes, int index, byte value) {
    byte[] copy = bytes.clone();
    copy[index] = value;
    return copy;
  }

  private static void assertRejected(byte[] bytes) {
    assertThrows(WireCodec.MalformedDatagramException.class, () -> WireCodec.decode(bytes));
  }

  @Test
  void versionTwoCarriesAccusersAndTheNewTypesWhileVersionOneIsWrittenWhenItSuffices()
      throws Exception {
    Member suspect = GOSSIP.get(0).withStatus(MemberStatus.SUSPECT, 3);
    java.util.Map<String, String> accusers = java.util.Map.of(suspect.name(), "node9");
    List<SwimMessage> v2 =
        List.of(
            new SwimMessage.Ping(FROM, 1, "node2", List.of(suspect), accusers),
            new SwimMessage.Nack(FROM, 2, "node2", List.of(), java.util.Map.of()),
            new SwimMessage.Gossip(FROM, 3, List.of(suspect, GOSSIP.get(1)), accusers),
            new SwimMessage.Sync(FROM, 4, true, GOSSIP, java.util.Map.of()));
    for (SwimMessage message : v2) {
      byte[] bytes = WireCodec.encode(message);
      assertEquals(2, bytes[2], "version of " + message);
      assertEquals(bytes.length, WireCodec.encodedSize(message));
      assertEquals(message, WireCodec.decode(bytes));
    }
    // a suspicion without accuser, and the five old types, stay readable by version-1 nodes
    assertEquals(1, WireCodec.encode(new SwimMessage.Ping(FROM, 1, "node2", List.of(suspect)))[2]);
  }

  @Test
  void versionThreeCarriesTheClusterNameOfAJoinAndItsRefusal() throws Exception {
    Member suspect = GOSSIP.get(0).withStatus(MemberStatus.SUSPECT, 3);
    List<SwimMessage> v3 =
        List.of(
            new SwimMessage.Join(FROM, 1, "prod", List.of(), java.util.Map.of()),
            new SwimMessage.Join(
                FROM, 2, "prod", List.of(suspect), java.util.Map.of(suspect.name(), "node9")),
            new SwimMessage.JoinRefused(FROM, 3, "other-cluster"));
    for (SwimMessage message : v3) {
      byte[] bytes = WireCodec.encode(message);
      assertEquals(3, bytes[2], "version of " + message);
      assertEquals(bytes.length, WireCodec.encodedSize(message));
      assertEquals(message, WireCodec.decode(bytes));
    }
  }

  @Test
  void aJoinOfTheDefaultClusterIsWrittenAsBeforeAndOldJoinsReadAsTheDefaultCluster()
      throws Exception {
    SwimMessage.Join plain = new SwimMessage.Join(FROM, 4, GOSSIP);
    byte[] bytes = WireCodec.encode(plain);
    assertEquals(1, bytes[2], "what version-1 nodes read");
    SwimMessage.Join read = (SwimMessage.Join) WireCodec.decode(bytes);
    assertEquals(LocalNode.DEFAULT_CLUSTER, read.cluster());
    // a version-2 JOIN (one carrying an accuser) names no cluster either
    Member suspect = GOSSIP.get(0).withStatus(MemberStatus.SUSPECT, 3);
    byte[] v2 =
        WireCodec.encode(
            new SwimMessage.Join(
                FROM, 5, List.of(suspect), java.util.Map.of(suspect.name(), "node9")));
    assertEquals(2, v2[2]);
    assertEquals(LocalNode.DEFAULT_CLUSTER, ((SwimMessage.Join) WireCodec.decode(v2)).cluster());
  }

  @Test
  void aRefusalOutsideVersionThreeOrAnEmptyClusterNameIsRejected() {
    byte[] refused = WireCodec.encode(new SwimMessage.JoinRefused(FROM, 3, "prod"));
    assertRejected(with(refused, 2, (byte) 2));
    assertRejected(with(refused, 2, (byte) 4));
    byte[] join =
        WireCodec.encode(new SwimMessage.Join(FROM, 1, "p", List.of(), java.util.Map.of()));
    // the cluster name's length byte follows the sender record and seq: "p" becomes ""
    int nameLength = join.length - 2 - 1 - 1;
    assertEquals(1, join[nameLength]);
    byte[] empty = Arrays.copyOf(join, join.length - 1);
    empty[nameLength] = 0;
    empty[empty.length - 2] = 0;
    empty[empty.length - 1] = 0;
    assertRejected(empty);
  }
}
