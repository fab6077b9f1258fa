package dhtnode.replication;

import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of one quorum round over a key's replicas, indexed by their position in the
 * preference list: which replicas answered (and with what value), which failed (a storage error or
 * a timeout: both are "no answer"), and which are still pending. It says when the required count is
 * met, whether it still can be (so a coordinator fails fast instead of waiting for the deadline),
 * which answer is the newest (tombstones are versions too) and which answered replicas are stale
 * relative to a version.
 *
 * <p>Each replica is decided at most once: a second answer or failure for the same replica is
 * ignored, so a duplicate reply can never count twice toward a quorum. Mutable and not thread-safe
 * on purpose: it is owned by one coordinator actor and updated in place, so recording a reply
 * allocates nothing.
 */
public final class QuorumTally {
  private static final byte PENDING = 0;
  private static final byte ANSWERED = 1;
  private static final byte FAILED = 2;

  private final List<String> replicas;
  private final int required;
  private final byte[] state;
  private final Versioned[] values;
  private int answered;
  private int failed;

  /**
   * @param replicas the key's replica names in preference order
   * @param required answers needed; above {@code replicas.size()} the quorum can never be met
   */
  public QuorumTally(List<String> replicas, int required) {
    if (required < 1) {
      throw new IllegalArgumentException("required must be at least 1, was " + required);
    }
    this.replicas = replicas;
    this.required = required;
    this.state = new byte[replicas.size()];
    this.values = new Versioned[replicas.size()];
  }

  /**
   * Records that {@code replica} answered; {@code value} is what it holds (null: nothing).
   *
   * @return false when the replica had already been decided and this answer was ignored
   */
  public boolean answer(int replica, Versioned value) {
    if (state[replica] != PENDING) {
      return false;
    }
    state[replica] = ANSWERED;
    values[replica] = value;
    answered++;
    return true;
  }

  /**
   * Records that {@code replica} will not answer in this round.
   *
   * @return false when the replica had already been decided and this failure was ignored
   */
  public boolean fail(int replica) {
    if (state[replica] != PENDING) {
      return false;
    }
    state[replica] = FAILED;
    failed++;
    return true;
  }

  public int required() {
    return required;
  }

  public boolean isMet() {
    return answered >= required;
  }

  /** False once so many replicas failed that the pending ones cannot make up the quorum. */
  public boolean canStillMeet() {
    return answered + pendingCount() >= required;
  }

  public int answeredCount() {
    return answered;
  }

  public int pendingCount() {
    return state.length - answered - failed;
  }

  public boolean isPending(int replica) {
    return state[replica] == PENDING;
  }

  public boolean hasAnswered(int replica) {
    return state[replica] == ANSWERED;
  }

  public boolean hasFailed(int replica) {
    return state[replica] == FAILED;
  }

  /** What {@code replica} answered with; null when it holds nothing or has not answered. */
  public Versioned valueOf(int replica) {
    return values[replica];
  }

  /** The newest value among the answers (a tombstone included), or null if none holds one. */
  public Versioned newest() {
    Versioned newest = null;
    for (int i = 0; i < values.length; i++) {
      Versioned v = values[i];
      if (v != null && v.supersedes(newest)) {
        newest = v;
      }
    }
    return newest;
  }

  /** The highest timestamp among the answers, or {@link Long#MIN_VALUE} when none holds a value. */
  public long maxTimestamp() {
    long max = Long.MIN_VALUE;
    for (Versioned v : values) {
      if (v != null && v.version().timestamp() > max) {
        max = v.version().timestamp();
      }
    }
    return max;
  }

  /**
   * True when {@code replica} answered and holds {@code version} or something newer, i.e. a read
   * quorum that includes it can no longer return anything older than {@code version}.
   */
  public boolean holdsAtLeast(int replica, Version version) {
    return state[replica] == ANSWERED && atLeast(values[replica], version);
  }

  /** The answered replicas that hold nothing or something older than {@code version}. */
  public int[] staleReplicas(Version version) {
    int count = 0;
    int[] stale = new int[answered];
    for (int i = 0; i < state.length; i++) {
      if (state[i] == ANSWERED && !atLeast(values[i], version)) {
        stale[count++] = i;
      }
    }
    return count == stale.length ? stale : java.util.Arrays.copyOf(stale, count);
  }

  /**
   * True when {@code replica} answered holding {@code target} itself or a newer version. Stricter
   * than {@link #holdsAtLeast(int, Version)}: a replica holding target's version with other
   * contents does not hold target.
   */
  public boolean holds(int replica, Versioned target) {
    return state[replica] == ANSWERED && holds(values[replica], target);
  }

  /** Names of the replicas that answered, in preference order. */
  public List<String> answered() {
    List<String> names = new ArrayList<>(answered);
    for (int i = 0; i < state.length; i++) {
      if (state[i] == ANSWERED) {
        names.add(replicas.get(i));
      }
    }
    return names;
  }

  /**
   * True when a replica holding {@code value} holds {@code target} or has moved past it: the same
   * write, or a newer version. An equal version with other bytes, content type or tombstone flag is
   * a different write that claims the same version; it does not count, so a coordinator never
   * reports as stored a value the replica does not hold.
   */
  public static boolean holds(Versioned value, Versioned target) {
    return value != null && (value.version().isNewerThan(target.version()) || value.equals(target));
  }

  /** True when {@code value} is {@code version} or newer (a replica holding it needs no repair). */
  public static boolean atLeast(Versioned value, Version version) {
    return value != null && value.version().compareTo(version) >= 0;
  }
}
