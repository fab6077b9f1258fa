package dhtnode.membership;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binary wire format of {@link SwimMessage}s (see docs/membership.md). Big-endian:
 *
 * <pre>
 * magic 'S' 'W' | version 1 | type (1 PING, 2 PING_REQ, 3 ACK, 4 JOIN, 5 JOIN_REPLY)
 * | from: member | seq: int64 | body | gossip count: uint16 | gossip: member*
 * body: PING name, PING_REQ member, ACK name, JOIN and JOIN_REPLY nothing
 * member: name | host | cluster port uint16 | http port uint16 | status uint8 | incarnation int64
 * name, host: uint8 length + UTF-8 bytes
 * </pre>
 *
 * Decoding accepts exactly this and nothing else: any other magic, version, type, status, a
 * truncated buffer or trailing bytes throw {@link MalformedDatagramException}, never anything else.
 */
public final class WireCodec {
  static final byte MAGIC_0 = 'S';
  static final byte MAGIC_1 = 'W';
  static final byte VERSION = 1;

  private static final byte PING = 1;
  private static final byte PING_REQ = 2;
  private static final byte ACK = 3;
  private static final byte JOIN = 4;
  private static final byte JOIN_REPLY = 5;

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
    return 1 + utf8(m.name()).length + 1 + utf8(m.host()).length + 2 + 2 + 1 + 8;
  }

  /** Encoded size of {@code message} in bytes, without encoding it. */
  public static int encodedSize(SwimMessage message) {
    int size = 4 + memberSize(message.from()) + 8 + 2;
    if (message instanceof SwimMessage.Ping p) {
      size += 1 + utf8(p.target()).length;
    } else if (message instanceof SwimMessage.PingReq r) {
      size += memberSize(r.target());
    } else if (message instanceof SwimMessage.Ack a) {
      size += 1 + utf8(a.subject()).length;
    }
    for (Member m : message.gossip()) {
      size += memberSize(m);
    }
    return size;
  }

  public static byte[] encode(SwimMessage message) {
    if (message.gossip().size() > 0xFFFF) {
      throw new IllegalArgumentException("too many gossip entries: " + message.gossip().size());
    }
    int size = encodedSize(message);
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.put(MAGIC_0).put(MAGIC_1).put(VERSION).put(type(message));
    putMember(buf, message.from());
    buf.putLong(message.seq());
    if (message instanceof SwimMessage.Ping p) {
      putString(buf, p.target());
    } else if (message instanceof SwimMessage.PingReq r) {
      putMember(buf, r.target());
    } else if (message instanceof SwimMessage.Ack a) {
      putString(buf, a.subject());
    }
    buf.putShort((short) message.gossip().size());
    for (Member m : message.gossip()) {
      putMember(buf, m);
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
      if (version != VERSION) {
        throw new MalformedDatagramException("unsupported SWIM version " + version);
      }
      byte type = buf.get();
      Member from = getMember(buf);
      long seq = buf.getLong();
      SwimMessage message = switch (type) {
        case PING -> {
          String target = getString(buf);
          yield new SwimMessage.Ping(from, seq, target, getGossip(buf));
        }
        case PING_REQ -> {
          Member target = getMember(buf);
          yield new SwimMessage.PingReq(from, seq, target, getGossip(buf));
        }
        case ACK -> {
          String subject = getString(buf);
          yield new SwimMessage.Ack(from, seq, subject, getGossip(buf));
        }
        case JOIN -> new SwimMessage.Join(from, seq, getGossip(buf));
        case JOIN_REPLY -> new SwimMessage.JoinReply(from, seq, getGossip(buf));
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
    }
    return JOIN_REPLY;
  }

  private static List<Member> getGossip(ByteBuffer buf) throws MalformedDatagramException {
    int count = Short.toUnsignedInt(buf.getShort());
    // Each member takes at least 16 bytes: a count beyond that is garbage, not a reason to allocate.
    if (count * 16L > buf.remaining()) {
      throw new MalformedDatagramException("gossip count " + count + " exceeds the datagram");
    }
    List<Member> gossip = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      gossip.add(getMember(buf));
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

  private static Member getMember(ByteBuffer buf) throws MalformedDatagramException {
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

  private static void putString(ByteBuffer buf, String s) {
    byte[] bytes = utf8(s);
    buf.put((byte) bytes.length);
    buf.put(bytes);
  }

  private static String getString(ByteBuffer buf) throws MalformedDatagramException {
    int length = Byte.toUnsignedInt(buf.get());
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
      throw new IllegalArgumentException("longer than 255 UTF-8 bytes: " + s.substring(0, 32) + "...");
    }
    return bytes;
  }
}
