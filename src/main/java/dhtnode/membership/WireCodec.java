package dhtnode.membership;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The binary wire format of {@link SwimMessage}s (see docs/membership.md). Big-endian:
 *
 * <pre>
 * magic 'S' 'W' | version (1, 2 or 3) | type | from: member | seq: int64 | body
 * | gossip count: uint16 | gossip: entry*
 * type 1 PING, 2 PING_REQ, 3 ACK, 4 JOIN, 5 JOIN_REPLY (every version);
 *      6 NACK, 7 GOSSIP, 8 SYNC, 9 SYNC_REPLY (versions 2 and 3); 10 JOIN_REFUSED (version 3)
 * body: PING, ACK and NACK a name; PING_REQ a member; JOIN in version 3 and JOIN_REFUSED the
 *       sender's cluster name; the others nothing
 * member: name | host | cluster port uint16 | http port uint16 | status uint8 | incarnation int64
 * entry: version 1 a member; versions 2 and 3 a member, and after a SUSPECT member its accuser's
 *        name (empty when unknown)
 * name, host: uint8 length + UTF-8 bytes
 * </pre>
 *
 * A message is written in the lowest version that can say it: version 1 for the first five types
 * without an accuser and a JOIN of the default cluster ({@link LocalNode#DEFAULT_CLUSTER}), version
 * 3 for a JOIN of another cluster and for JOIN_REFUSED, version 2 otherwise. So nodes that read
 * only version 1 or 2 still understand all they did; they drop a version-3 JOIN, and so never take
 * in a node of a named cluster. A JOIN of version 1 or 2 is read as one of the default cluster. All
 * three versions are read. Decoding accepts exactly this and nothing else: any other magic,
 * version, type, status, a truncated buffer or trailing bytes throw {@link
 * MalformedDatagramException}, never anything else.
 */
public final class WireCodec {
  static final byte MAGIC_0 = 'S';
  static final byte MAGIC_1 = 'W';
  static final byte VERSION_1 = 1;
  static final byte VERSION_2 = 2;
  static final byte VERSION_3 = 3;

  private static final byte PING = 1;
  private static final byte PING_REQ = 2;
  private static final byte ACK = 3;
  private static final byte JOIN = 4;
  private static final byte JOIN_REPLY = 5;
  private static final byte NACK = 6;
  private static final byte GOSSIP = 7;
  private static final byte SYNC = 8;
  private static final byte SYNC_REPLY = 9;
  private static final byte JOIN_REFUSED = 10;

  private static final MemberStatus[] STATUSES = MemberStatus.values();

  private WireCodec() {}

  /** A datagram that is not a well-formed message of this protocol version. */
  public static final class MalformedDatagramException extends Exception {
    MalformedDatagramException(String message) {
      super(message);
    }
  }

  /** Encoded size of one member record, so the gossip buffer can fill a datagram exactly. */
  public static int memberSize(Member m) {
    return 1 + utf8Length(m.name()) + 1 + utf8Length(m.host()) + 2 + 2 + 1 + 8;
  }

  /** UTF-8 length of {@code s} without encoding it when it is ASCII (names and hosts are). */
  private static int utf8Length(String s) {
    if (!isAscii(s)) {
      return utf8(s).length;
    }
    if (s.length() > 255) {
      throw new IllegalArgumentException(
          "longer than 255 UTF-8 bytes: " + s.substring(0, 32) + "...");
    }
    return s.length();
  }

  /**
   * Encoded size of one gossip entry at most: the member, and for a SUSPECT one its accuser as
   * version 2 writes it.
   */
  public static int entrySize(Member m, String accuser) {
    return memberSize(m)
        + (m.status() == MemberStatus.SUSPECT
            ? 1 + (accuser == null ? 0 : utf8Length(accuser))
            : 0);
  }

  static byte version(SwimMessage message) {
    if (message instanceof SwimMessage.JoinRefused
        || (message instanceof SwimMessage.Join join
            && !join.cluster().equals(LocalNode.DEFAULT_CLUSTER))) {
      return VERSION_3;
    }
    byte type = type(message);
    return type > JOIN_REPLY || !message.accusers().isEmpty() ? VERSION_2 : VERSION_1;
  }

  /** Encoded size of {@code message} in bytes, without encoding it. */
  public static int encodedSize(SwimMessage message) {
    int size = 4 + memberSize(message.from()) + 8 + 2;
    if (message instanceof SwimMessage.Ping p) {
      size += 1 + utf8Length(p.target());
    } else if (message instanceof SwimMessage.PingReq r) {
      size += memberSize(r.target());
    } else if (message instanceof SwimMessage.Ack a) {
      size += 1 + utf8Length(a.subject());
    } else if (message instanceof SwimMessage.Nack n) {
      size += 1 + utf8Length(n.subject());
    } else if (message instanceof SwimMessage.JoinRefused r) {
      size += 1 + utf8Length(r.cluster());
    }
    byte version = version(message);
    if (version == VERSION_3 && message instanceof SwimMessage.Join j) {
      size += 1 + utf8Length(j.cluster());
    }
    boolean v2 = version >= VERSION_2;
    for (Member m : message.gossip()) {
      size += v2 ? entrySize(m, message.accusers().get(m.name())) : memberSize(m);
    }
    return size;
  }

  public static byte[] encode(SwimMessage message) {
    if (message.gossip().size() > 0xFFFF) {
      throw new IllegalArgumentException("too many gossip entries: " + message.gossip().size());
    }
    byte version = version(message);
    ByteBuffer buf = ByteBuffer.allocate(encodedSize(message));
    buf.put(MAGIC_0).put(MAGIC_1).put(version).put(type(message));
    putMember(buf, message.from());
    buf.putLong(message.seq());
    if (message instanceof SwimMessage.Ping p) {
      putString(buf, p.target());
    } else if (message instanceof SwimMessage.PingReq r) {
      putMember(buf, r.target());
    } else if (message instanceof SwimMessage.Ack a) {
      putString(buf, a.subject());
    } else if (message instanceof SwimMessage.Nack n) {
      putString(buf, n.subject());
    } else if (message instanceof SwimMessage.JoinRefused r) {
      putString(buf, r.cluster());
    } else if (version == VERSION_3 && message instanceof SwimMessage.Join j) {
      putString(buf, j.cluster());
    }
    buf.putShort((short) message.gossip().size());
    for (Member m : message.gossip()) {
      putMember(buf, m);
      if (version >= VERSION_2 && m.status() == MemberStatus.SUSPECT) {
        String accuser = message.accusers().get(m.name());
        putString(buf, accuser == null ? "" : accuser);
      }
    }
    return buf.array();
  }

  public static SwimMessage decode(byte[] bytes) throws MalformedDatagramException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    try {
      if (buf.get() != MAGIC_0 || buf.get() != MAGIC_1) {
        throw new MalformedDatagramException("not a SWIM datagram (bad magic)");
      }
      byte version = buf.get();
      if (version < VERSION_1 || version > VERSION_3) {
        throw new MalformedDatagramException("unsupported SWIM version " + version);
      }
      boolean v2 = version >= VERSION_2;
      byte type = buf.get();
      if (type > JOIN_REPLY && !v2) {
        throw new MalformedDatagramException("message type " + type + " needs version 2");
      }
      if (type == JOIN_REFUSED && version != VERSION_3) {
        throw new MalformedDatagramException("message type " + type + " needs version 3");
      }
      Member from = getMember(buf);
      long seq = buf.getLong();
      Map<String, String> accusers = new HashMap<>();
      SwimMessage message =
          switch (type) {
            case PING -> {
              String target = getString(buf);
              yield new SwimMessage.Ping(from, seq, target, getGossip(buf, v2, accusers), accusers);
            }
            case PING_REQ -> {
              Member target = getMember(buf);
              yield new SwimMessage.PingReq(
                  from, seq, target, getGossip(buf, v2, accusers), accusers);
            }
            case ACK -> {
              String subject = getString(buf);
              yield new SwimMessage.Ack(from, seq, subject, getGossip(buf, v2, accusers), accusers);
            }
            case NACK -> {
              String subject = getString(buf);
              yield new SwimMessage.Nack(
                  from, seq, subject, getGossip(buf, v2, accusers), accusers);
            }
            case JOIN -> {
              String cluster =
                  version == VERSION_3 ? getClusterName(buf) : LocalNode.DEFAULT_CLUSTER;
              yield new SwimMessage.Join(
                  from, seq, cluster, getGossip(buf, v2, accusers), accusers);
            }
            case JOIN_REFUSED -> {
              String cluster = getClusterName(buf);
              if (buf.getShort() != 0) {
                throw new MalformedDatagramException("JOIN_REFUSED with gossip");
              }
              yield new SwimMessage.JoinRefused(from, seq, cluster);
            }
            case JOIN_REPLY ->
                new SwimMessage.JoinReply(from, seq, getGossip(buf, v2, accusers), accusers);
            case GOSSIP ->
                new SwimMessage.Gossip(from, seq, getGossip(buf, v2, accusers), accusers);
            case SYNC, SYNC_REPLY ->
                new SwimMessage.Sync(
                    from, seq, type == SYNC_REPLY, getGossip(buf, v2, accusers), accusers);
            default -> throw new MalformedDatagramException("unknown message type " + type);
          };
      if (buf.hasRemaining()) {
        throw new MalformedDatagramException(buf.remaining() + " trailing bytes");
      }
      return message;
    } catch (BufferUnderflowException e) {
      throw new MalformedDatagramException("truncated datagram (" + bytes.length + " bytes)");
    }
  }

  private static byte type(SwimMessage message) {
    if (message instanceof SwimMessage.Ping) {
      return PING;
    } else if (message instanceof SwimMessage.PingReq) {
      return PING_REQ;
    } else if (message instanceof SwimMessage.Ack) {
      return ACK;
    } else if (message instanceof SwimMessage.Join) {
      return JOIN;
    } else if (message instanceof SwimMessage.JoinReply) {
      return JOIN_REPLY;
    } else if (message instanceof SwimMessage.Nack) {
      return NACK;
    } else if (message instanceof SwimMessage.Gossip) {
      return GOSSIP;
    } else if (message instanceof SwimMessage.JoinRefused) {
      return JOIN_REFUSED;
    }
    return ((SwimMessage.Sync) message).reply() ? SYNC_REPLY : SYNC;
  }

  private static List<Member> getGossip(ByteBuffer buf, boolean v2, Map<String, String> accusers)
      throws MalformedDatagramException {
    int count = Short.toUnsignedInt(buf.getShort());
    // Each member takes at least 16 bytes: a count beyond that is garbage, not a reason to
    // allocate.
    if (count * 16L > buf.remaining()) {
      throw new MalformedDatagramException("gossip count " + count + " exceeds the datagram");
    }
    List<Member> gossip = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Member m = getMember(buf);
      gossip.add(m);
      if (v2 && m.status() == MemberStatus.SUSPECT) {
        String accuser = getString(buf);
        if (!accuser.isEmpty()) {
          accusers.put(m.name(), accuser);
        }
      }
    }
    return List.copyOf(gossip);
  }

  private static void putMember(ByteBuffer buf, Member m) {
    putString(buf, m.name());
    putString(buf, m.host());
    buf.putShort((short) m.clusterPort());
    buf.putShort((short) m.httpPort());
    buf.put((byte) m.status().ordinal());
    buf.putLong(m.incarnation());
  }

  /** Ways per set of {@link #DECODED}. */
  private static final int WAYS = 4;

  /**
   * Member records decoded lately, by their bytes: 2,048 sets of {@link #WAYS} entries, the newest
   * first in its set (see {@link #getMember}). About 1.5 MB when full.
   */
  private static final Decoded[] DECODED = new Decoded[2048 * WAYS];

  private record Decoded(byte[] bytes, Member member) {}

  /**
   * The member record at the buffer's position. The same records arrive again and again (each
   * datagram carries its sender's, each JOIN reply and push-pull the whole list), so one whose
   * bytes were decoded lately is returned as the same immutable {@link Member} again: no strings to
   * build and check, and the members of a simulated cluster share one copy of each record instead
   * of a thousand. A set holds four records, so a cluster of a few thousand members rarely evicts
   * one it still uses. Entries are written racily, which is safe: a slot only ever holds a
   * complete, immutable entry, and any entry found for these bytes decodes to the same record.
   */
  private static Member getMember(ByteBuffer buf) throws MalformedDatagramException {
    if (!buf.hasArray() || buf.remaining() < 2) {
      return readMember(buf);
    }
    byte[] array = buf.array();
    int start = buf.arrayOffset() + buf.position();
    int nameLength = Byte.toUnsignedInt(array[start]);
    if (1 + nameLength >= buf.remaining()) {
      return readMember(buf);
    }
    // name, host, cluster port, http port, status, incarnation
    int length = 1 + nameLength + 1 + Byte.toUnsignedInt(array[start + 1 + nameLength]) + 13;
    if (length > buf.remaining()) {
      return readMember(buf);
    }
    int hash = 1;
    for (int i = start; i < start + length; i++) {
      hash = 31 * hash + array[i];
    }
    int set = ((hash * 0x9E3779B9) >>> 21) * WAYS; // Fibonacci hashing: the top 11 bits, mixed
    for (int way = set; way < set + WAYS; way++) {
      Decoded known = DECODED[way];
      if (known != null
          && Arrays.equals(known.bytes(), 0, known.bytes().length, array, start, start + length)) {
        buf.position(buf.position() + length);
        return known.member();
      }
    }
    Member m = readMember(buf);
    System.arraycopy(DECODED, set, DECODED, set + 1, WAYS - 1);
    DECODED[set] = new Decoded(Arrays.copyOfRange(array, start, start + length), m);
    return m;
  }

  private static Member readMember(ByteBuffer buf) throws MalformedDatagramException {
    String name = getString(buf);
    String host = getString(buf);
    int clusterPort = Short.toUnsignedInt(buf.getShort());
    int httpPort = Short.toUnsignedInt(buf.getShort());
    int status = Byte.toUnsignedInt(buf.get());
    long incarnation = buf.getLong();
    if (name.isEmpty() || host.isEmpty()) {
      throw new MalformedDatagramException("member with empty name or host");
    }
    if (status >= STATUSES.length) {
      throw new MalformedDatagramException("unknown member status " + status);
    }
    return new Member(name, host, clusterPort, httpPort, STATUSES[status], incarnation);
  }

  private static String getClusterName(ByteBuffer buf) throws MalformedDatagramException {
    String cluster = getString(buf);
    if (cluster.isEmpty()) {
      throw new MalformedDatagramException("empty cluster name");
    }
    return cluster;
  }

  private static void putString(ByteBuffer buf, String s) {
    int length = s.length();
    if (length <= 255 && isAscii(s)) {
      // names and hosts are ASCII: their chars are their bytes, no array to build
      buf.put((byte) length);
      for (int i = 0; i < length; i++) {
        buf.put((byte) s.charAt(i));
      }
      return;
    }
    byte[] bytes = utf8(s);
    buf.put((byte) bytes.length);
    buf.put(bytes);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static String getString(ByteBuffer buf) throws MalformedDatagramException {
    int length = Byte.toUnsignedInt(buf.get());
    if (buf.hasArray() && length <= buf.remaining()) {
      byte[] array = buf.array();
      int start = buf.arrayOffset() + buf.position();
      int i = start;
      while (i < start + length && array[i] >= 0) {
        i++;
      }
      if (i == start + length) {
        // ASCII, so valid UTF-8 and one char per byte: no decoding to check
        buf.position(buf.position() + length);
        return new String(array, start, length, StandardCharsets.ISO_8859_1);
      }
    }
    byte[] bytes = new byte[length];
    buf.get(bytes);
    String s = new String(bytes, StandardCharsets.UTF_8);
    if (!Arrays.equals(s.getBytes(StandardCharsets.UTF_8), bytes)) {
      throw new MalformedDatagramException("string is not valid UTF-8");
    }
    return s;
  }

  private static byte[] utf8(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > 255) {
      throw new IllegalArgumentException(
          "longer than 255 UTF-8 bytes: " + s.substring(0, 32) + "...");
    }
    return bytes;
  }
}
