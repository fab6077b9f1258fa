package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import com.typesafe.config.ConfigFactory;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The LZ4 path of Akka's Jackson serializer, which runs on whatever lz4-java is on the classpath
 * (the maintained at.yawk.lz4 line, see docs/dependencies.md). A node decompresses any inbound
 * message that starts with the LZ4 header, whatever its own compression setting, so this path is
 * reachable from the cluster port: a large value must round-trip, and a damaged frame must be
 * refused with an error, never decoded into something else.
 */
class CompressedWireTest {
  static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString(
                  // local: serialization needs no remoting, and application.conf's remoting would
                  // bind the default cluster port 7000, which a running node may hold
                  "akka.actor.provider = local\n"
                      + "akka.serialization.jackson.jackson-cbor.compression { algorithm = lz4, compress-larger-than = 1 KiB }")
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void aLargeValueCrossesTheWireLz4CompressedAndUnchanged() {
    Serialization serialization = SerializationExtension.get(testKit.system());
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    byte[] value = new byte[256 << 10];
    Arrays.fill(value, (byte) 'a');
    StorageActor.Put put =
        new StorageActor.Put(
            "k", Versioned.of(value, "text/plain", new Version(7, "node1")), 0, 3, probe.getRef());
    Serializer serializer = serialization.findSerializerFor(put);
    assertEquals(
        "akka.serialization.jackson.JacksonCborSerializer", serializer.getClass().getName());
    byte[] bytes = serialization.serialize(put).get();
    assertTrue(bytes.length < value.length / 10, "compressed to " + bytes.length + " bytes");

    Object back =
        serialization
            .deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, put))
            .get();
    StorageActor.Put received = (StorageActor.Put) back;
    assertEquals(put, received);
    assertArrayEquals(value, received.value().value());
  }

  /**
   * dht.http.max-value-size allows up to 64 MiB, and Jackson since 2.15 caps what it reads
   * (StreamReadConstraints): a value is CBOR binary, not a string, so the 20 M string cap must not
   * apply to it.
   */
  @Test
  void aValueAboveJacksonsStringLimitCrossesTheWire() {
    Serialization serialization = SerializationExtension.get(testKit.system());
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    byte[] value = new byte[21 << 20];
    new java.util.Random(1).nextBytes(value); // incompressible: the frame stays over the limit
    StorageActor.Put put =
        new StorageActor.Put(
            "k",
            Versioned.of(value, "application/octet-stream", new Version(7, "node1")),
            0,
            3,
            probe.getRef());
    Serializer serializer = serialization.findSerializerFor(put);
    byte[] bytes = serialization.serialize(put).get();
    assertTrue(bytes.length > value.length);
    Object back =
        serialization
            .deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, put))
            .get();
    assertArrayEquals(value, ((StorageActor.Put) back).value().value());
  }

  @Test
  void aDamagedCompressedFrameIsRefused() {
    Serialization serialization = SerializationExtension.get(testKit.system());
    TestProbe<StorageActor.Reply> probe = testKit.createTestProbe();
    byte[] value = new byte[64 << 10];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) ('a' + i % 7);
    }
    StorageActor.Put put =
        new StorageActor.Put(
            "k", Versioned.of(value, "text/plain", new Version(7, "node1")), 0, 3, probe.getRef());
    Serializer serializer = serialization.findSerializerFor(put);
    String manifest = Serializers.manifestFor(serializer, put);
    byte[] bytes = serialization.serialize(put).get();
    // keep the LZ4 header and the declared length, cut the compressed block short
    byte[] truncated = Arrays.copyOf(bytes, bytes.length / 2);
    assertTrue(serialization.deserialize(truncated, serializer.identifier(), manifest).isFailure());
    // keep the length, overwrite the block with bytes that are no valid LZ4 sequence
    byte[] garbled = bytes.clone();
    Arrays.fill(garbled, 12, garbled.length, (byte) 0xFF);
    assertTrue(serialization.deserialize(garbled, serializer.identifier(), manifest).isFailure());
  }
}
