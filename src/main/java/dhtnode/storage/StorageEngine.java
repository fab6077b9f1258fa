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

  /** One write of a {@link #putAll} batch. */
  record Write(String key, Versioned value) {}

  /**
   * Applies {@code writes} in order as one atomic write: the same outcome as calling {@link #put}
   * for each in turn (a later write of a key in the batch is compared with what an earlier one
   * left), but all of it becomes visible and durable at once, or none of it does. On RocksDB with
   * {@code fsync} on this is one synced write however long the batch, which is what group commit
   * pays per batch instead of per write. A batch whose writes are all refused writes nothing.
   *
   * @return for each write, the value stored afterwards as {@link #put} returns it ({@code value}
   *     itself when it was applied)
   * @throws StorageException when the batch was not stored; then none of it was
   */
  List<Versioned> putAll(List<Write> writes);

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
