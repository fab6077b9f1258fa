package dhtnode.keyspace;

import java.nio.charset.StandardCharsets;

/**
 * MurmurHash3 x64 128-bit, of which the first 64 bits are a key's ring token (as in Cassandra's
 * Murmur3Partitioner). Pure and allocation-free on byte arrays, so the ring lookup and the storage
 * key encoding can call it on every request.
 */
public final class Murmur3 {
  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;

  private Murmur3() {}

  /** The ring token of a key: Murmur3 of its UTF-8 bytes. */
  public static long token(String key) {
    return hash64(key.getBytes(StandardCharsets.UTF_8));
  }

  /** First 64 bits of MurmurHash3_x64_128 with seed 0. */
  public static long hash64(byte[] data) {
    return hash64(data, 0, data.length, 0);
  }

  public static long hash64(byte[] data, int offset, int length, long seed) {
    long h1 = seed;
    long h2 = seed;
    int nblocks = length >>> 4;
    for (int i = 0; i < nblocks; i++) {
      int at = offset + (i << 4);
      long k1 = getLong(data, at);
      long k2 = getLong(data, at + 8);
      k1 *= C1;
      k1 = Long.rotateLeft(k1, 31);
      k1 *= C2;
      h1 ^= k1;
      h1 = Long.rotateLeft(h1, 27);
      h1 += h2;
      h1 = h1 * 5 + 0x52dce729;
      k2 *= C2;
      k2 = Long.rotateLeft(k2, 33);
      k2 *= C1;
      h2 ^= k2;
      h2 = Long.rotateLeft(h2, 31);
      h2 += h1;
      h2 = h2 * 5 + 0x38495ab5;
    }
    int tail = offset + (nblocks << 4);
    long k1 = 0;
    long k2 = 0;
    switch (length & 15) {
      case 15:
        k2 ^= (data[tail + 14] & 0xffL) << 48; // fall through
      case 14:
        k2 ^= (data[tail + 13] & 0xffL) << 40; // fall through
      case 13:
        k2 ^= (data[tail + 12] & 0xffL) << 32; // fall through
      case 12:
        k2 ^= (data[tail + 11] & 0xffL) << 24; // fall through
      case 11:
        k2 ^= (data[tail + 10] & 0xffL) << 16; // fall through
      case 10:
        k2 ^= (data[tail + 9] & 0xffL) << 8; // fall through
      case 9:
        k2 ^= data[tail + 8] & 0xffL;
        k2 *= C2;
        k2 = Long.rotateLeft(k2, 33);
        k2 *= C1;
        h2 ^= k2;
      // fall through
      case 8:
        k1 ^= (data[tail + 7] & 0xffL) << 56; // fall through
      case 7:
        k1 ^= (data[tail + 6] & 0xffL) << 48; // fall through
      case 6:
        k1 ^= (data[tail + 5] & 0xffL) << 40; // fall through
      case 5:
        k1 ^= (data[tail + 4] & 0xffL) << 32; // fall through
      case 4:
        k1 ^= (data[tail + 3] & 0xffL) << 24; // fall through
      case 3:
        k1 ^= (data[tail + 2] & 0xffL) << 16; // fall through
      case 2:
        k1 ^= (data[tail + 1] & 0xffL) << 8; // fall through
      case 1:
        k1 ^= data[tail] & 0xffL;
        k1 *= C1;
        k1 = Long.rotateLeft(k1, 31);
        k1 *= C2;
        h1 ^= k1;
        break;
      default:
        break;
    }
    h1 ^= length;
    h2 ^= length;
    h1 += h2;
    h2 += h1;
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 += h2;
    return h1;
  }

  private static long getLong(byte[] b, int i) {
    return (b[i] & 0xffL)
        | (b[i + 1] & 0xffL) << 8
        | (b[i + 2] & 0xffL) << 16
        | (b[i + 3] & 0xffL) << 24
        | (b[i + 4] & 0xffL) << 32
        | (b[i + 5] & 0xffL) << 40
        | (b[i + 6] & 0xffL) << 48
        | (b[i + 7] & 0xffL) << 56;
  }

  private static long fmix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
