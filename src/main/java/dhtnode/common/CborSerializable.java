package dhtnode.common;

/**
 * Marker for every message that may cross nodes. Bound to Akka's {@code jackson-cbor} serializer in
 * {@code reference.conf}, so remote messages are compact binary, never Java serialization.
 */
public interface CborSerializable {}
