package dhtnode.storage;

import dhtnode.keyspace.TokenRange;
import java.util.List;
import java.util.Optional;

/**
 * The contract every storage engine keeps. Keys are ordered by ring token (then by key bytes), so a
 * token range is one sequential scan. Writes are last-writer-wins by {@link Version}: applying the
 * same set of writes in any order, any number of times, leaves the same state.
 *
 * <p>Engines are not thread-safe by contract; the {@link StorageActor} is their only caller and
 * serialises access, which also makes the read-compare-write in {@link #put} atomic.
 */
public interface StorageEngine extends AutoCloseable {

  /** The stored value, tombstones included; empty when the key was never written here. */
  Optional<Versioned> get(String key);

  /**
   * Stores {@code value} if it is newer than what is stored. An equal version is not newer: the
   * stored value stays, even if its bytes, content type or tombstone flag differ from {@code
   * value}'s (the replica refuses a second write claiming a version it already holds; the caller
   * sees that in the returned value).
   *
   * @return the value stored afterwards: {@code value} if it was applied, else the newer one kept
   */
  Versioned put(String key, Versioned value);

  /**
   * Removes a key only if its stored version is exactly {@code expected}; used to purge collected
   * tombstones and handed-off data without racing a newer write.
   *
   * @return true if the key was removed
   */
  boolean purge(String key, Version expected);

  /**
   * Up to {@code limit} entries of {@code range} in ring order, starting after the entry for {@code
   * afterKey} (or at the start of the range when it is null), so a long scan can be resumed in
   * batches. For a wrapping range the order is from the range's start up through the end of the
   * ring, then from the ring's beginning up to its end token.
   */
  List<StoredEntry> scan(TokenRange range, String afterKey, int limit);

  /** Number of keys stored (exact for in-memory, RocksDB's estimate otherwise). */
  long approximateKeyCount();

  /** Bytes on disk (0 for in-memory). */
  long approximateSizeBytes();

  @Override
  void close();
}
