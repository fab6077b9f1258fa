package dhtnode.keyspace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Murmur3Test {

  // Reference values from Guava's Hashing.murmur3_128().hashBytes(..).asLong(), an independent
  // implementation, covering empty input, every tail length class, and multi-byte UTF-8.
  @Test
  void tokensMatchTheReferenceImplementation() {
    assertEquals(0L, Murmur3.token(""));
    assertEquals(-8839064797231613815L, Murmur3.token("a"));
    assertEquals(-3758069500696749310L, Murmur3.token("hello"));
    assertEquals(
        -2068352364225029268L, Murmur3.token("The quick brown fox jumps over the lazy dog"));
    assertEquals(5467490433528156583L, Murmur3.token("0123456789abcdef"));
    assertEquals(-3608559037187041545L, Murmur3.token("0123456789abcdefX"));
    assertEquals(7173230293207891351L, Murmur3.token("ключ-🔑"));
  }

  @Test
  void hashOfASliceEqualsHashOfTheCopiedBytes() {
    byte[] padded = "xxhelloyy".getBytes(StandardCharsets.UTF_8);
    assertEquals(Murmur3.token("hello"), Murmur3.hash64(padded, 2, 5, 0));
  }
}
