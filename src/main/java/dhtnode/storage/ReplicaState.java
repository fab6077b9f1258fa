package dhtnode.storage;

/**
 * What the {@link StorageActor} needs to know of the ring, without depending on it: the epoch this
 * node is at (replica requests from any other epoch are fenced), which tokens it may not answer
 * reads for yet, and which tokens it replicates at all. Implementations read one immutable snapshot
 * per call, so they are cheap and thread-safe; before this node knows any epoch, its epoch is 0 and
 * every read is pending.
 */
public interface ReplicaState {

  /** The ring epoch this node is at; 0 before it knows one. */
  long epoch();

  /**
   * Whether reads of {@code token} must not be answered: this node lost its data (it restarted with
   * an empty data directory) and has not refilled the range yet. Writes are still applied.
   */
  boolean readPending(long token);

  /**
   * Whether this node replicates {@code token} in its current epoch, on the read or the write side.
   * A sweep never deletes such a key, and fills never store outside of it.
   */
  boolean holds(long token);

  /**
   * A request arrived from a later epoch than {@link #epoch()}: this node is behind and should
   * catch up. Called on the storage actor's thread, so it must only hand the hint on.
   */
  default void behind(long epoch) {}

  /** No ring: epoch 0, nothing pending, every token held. For a node's tools and tests. */
  ReplicaState UNFENCED =
      new ReplicaState() {
        @Override
        public long epoch() {
          return 0;
        }

        @Override
        public boolean readPending(long token) {
          return false;
        }

        @Override
        public boolean holds(long token) {
          return true;
        }
      };
}
