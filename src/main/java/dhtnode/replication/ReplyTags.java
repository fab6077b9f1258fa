package dhtnode.replication;

import dhtnode.storage.StorageActor.Reply;
import dhtnode.storage.StorageActor.TaggedReply;

/**
 * The tags a {@link ReplicaCoordinator} puts on its replica requests, and which of them still wait
 * for a reply. A tag holds the attempt number, the replica's index and the step (an ordinal below
 * {@code 1 << STEP_BITS}), so one message adapter serves every request of a coordinator, a reply is
 * taken at most once (like an ask's), and a reply to an abandoned attempt is never counted in the
 * next one. Plain data, no Akka; one coordinator's state, so not thread-safe.
 */
final class ReplyTags {
  /** Bits of a tag that hold the step; the replica's index is above them. */
  static final int STEP_BITS = 3;

  /** Bits of a tag below the attempt number: the replica's index and the step. */
  private static final int ATTEMPT_SHIFT = 16;

  /** Numbers attempts, so replies to an abandoned one are never counted in the next. */
  private int attempt;

  /** Which slots (replica and step) of this attempt still wait for a reply. */
  private boolean[] awaiting;

  private int outstanding;

  ReplyTags(int replicas) {
    forget(replicas);
  }

  /**
   * Waits for nothing, now for {@code replicas} replicas (a new placement), in the same attempt.
   */
  void forget(int replicas) {
    awaiting = new boolean[replicas << STEP_BITS];
    outstanding = 0;
  }

  /** Starts the next attempt: nothing of this one is taken any more. */
  void nextAttempt(int replicas) {
    attempt++;
    forget(replicas);
  }

  /** Marks the reply of {@code replica} at {@code step} as awaited and returns its tag. */
  int expect(int replica, int step) {
    int slot = replica << STEP_BITS | step;
    awaiting[slot] = true;
    outstanding++;
    return (attempt & 0x7fff) << ATTEMPT_SHIFT | slot;
  }

  /**
   * Takes the reply tagged {@code tag}: its slot ({@link #replicaOf}, {@link #stepOf}), or -1 when
   * nobody waits for it (no tag, another attempt, or already taken).
   */
  int take(int tag) {
    int slot = tag & ((1 << ATTEMPT_SHIFT) - 1);
    if (tag < 0
        || tag >>> ATTEMPT_SHIFT != (attempt & 0x7fff)
        || slot >= awaiting.length
        || !awaiting[slot]) {
      return -1;
    }
    awaiting[slot] = false;
    outstanding--;
    return slot;
  }

  /** Replies this attempt still waits for. */
  int outstanding() {
    return outstanding;
  }

  static int replicaOf(int slot) {
    return slot >>> STEP_BITS;
  }

  static int stepOf(int slot) {
    return slot & ((1 << STEP_BITS) - 1);
  }

  /** The tag a replica echoed, or -1 for a reply that carries none. */
  static int tagOf(Reply reply) {
    return reply instanceof TaggedReply t ? t.tag() : -1;
  }
}
