package dhtnode.storage;

import dhtnode.keyspace.Murmur3;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The storage key layout: 8 bytes of ring token, sign bit flipped so that unsigned byte order
 * equals signed token order, followed by the key's UTF-8 bytes. Byte-wise ordering of encoded keys
 * is therefore (token, key) order, which makes a token range one contiguous scan.
 */
public final class KeyCodec {
  private KeyCodec() {}

  public static byte[] encode(String key) {
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    return encode(Murmur3.hash64(utf8), utf8);
  }

  static byte[] encode(long token, byte[] utf8) {
    byte[] out = Arrays.copyOf(tokenPrefix(token), 8 + utf8.length);
    System.arraycopy(utf8, 0, out, 8, utf8.length);
    return out;
  }

  /** The 8-byte prefix under which every key with this token is stored. */
  public static byte[] tokenPrefix(long token) {
    long u = token ^ Long.MIN_VALUE;
    byte[] out = new byte[8];
    for (int i = 7; i >= 0; i--) {
      out[i] = (byte) u;
      u >>>= 8;
    }
    return out;
  }

  public static long token(byte[] encoded) {
    long u = 0;
    for (int i = 0; i < 8; i++) {
      u = (u << 8) | (encoded[i] & 0xffL);
    }
    return u ^ Long.MIN_VALUE;
  }

  public static String key(byte[] encoded) {
    return new String(encoded, 8, encoded.length - 8, StandardCharsets.UTF_8);
  }
}
