package dhtnode.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The on-disk form of a {@link Versioned}: a format byte, a flags byte (bit 0 = tombstone), the
 * 8-byte timestamp, the writer and content type as length-prefixed UTF-8, then the value bytes. The
 * leading format byte lets a later layout be read beside this one.
 */
public final class ValueCodec {
  static final byte FORMAT_1 = 1;

  private ValueCodec() {}

  public static byte[] encode(Versioned v) {
    byte[] writer = v.version().writer().getBytes(StandardCharsets.UTF_8);
    byte[] type = v.contentType().getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf =
        ByteBuffer.allocate(1 + 1 + 8 + 2 + writer.length + 2 + type.length + v.value().length);
    buf.put(FORMAT_1);
    buf.put((byte) (v.tombstone() ? 1 : 0));
    buf.putLong(v.version().timestamp());
    buf.putShort((short) writer.length).put(writer);
    buf.putShort((short) type.length).put(type);
    buf.put(v.value());
    return buf.array();
  }

  public static Versioned decode(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    byte format = buf.get();
    if (format != FORMAT_1) {
      throw new IllegalStateException("unknown stored value format " + format);
    }
    boolean tombstone = (buf.get() & 1) != 0;
    long timestamp = buf.getLong();
    String writer = readString(buf);
    String type = readString(buf);
    byte[] value = new byte[buf.remaining()];
    buf.get(value);
    return new Versioned(value, type, new Version(timestamp, writer), tombstone);
  }

  /** Only the version, without copying the value bytes: what a put compares against. */
  public static Version decodeVersion(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    buf.position(2);
    long timestamp = buf.getLong();
    return new Version(timestamp, readString(buf));
  }

  private static String readString(ByteBuffer buf) {
    int len = Short.toUnsignedInt(buf.getShort());
    String s = new String(buf.array(), buf.position(), len, StandardCharsets.UTF_8);
    buf.position(buf.position() + len);
    return s;
  }
}
