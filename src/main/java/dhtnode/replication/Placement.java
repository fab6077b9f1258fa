package dhtnode.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * Where one request on one key goes, at one ring epoch: the key's replicas, the first {@code
 * readCount} of them the read set (in preference order), the rest replicas that only take writes
 * during a transition; and the sets a write must reach W of each ({@link #writeSets}, indices into
 * {@code replicas}). Stable epochs have one write set, all of {@code replicas}. Every request the
 * coordinator sends carries {@code epoch}, and a replica at another epoch answers without data, so
 * no quorum mixes answers given under different epochs.
 */
public record Placement(long epoch, List<Replica> replicas, int readCount, List<int[]> writeSets) {

  public Placement {
    replicas = List.copyOf(replicas);
    writeSets = List.copyOf(writeSets);
    if (readCount < 0 || readCount > replicas.size()) {
      throw new IllegalArgumentException(
          "readCount " + readCount + " of " + replicas.size() + " replicas");
    }
  }

  /** A stable epoch: every replica is read and written, one write set. */
  public static Placement stable(long epoch, List<Replica> replicas) {
    int[] all = new int[replicas.size()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    return new Placement(epoch, replicas, replicas.size(), List.of(all));
  }

  /**
   * A placement from replica sets by name: {@code read} first, then each other write set's members
   * not in it. Names without a resolved replica are left out (they cannot answer).
   */
  public static Placement of(
      long epoch,
      List<String> read,
      List<List<String>> writeSets,
      Function<String, Replica> resolve) {
    List<Replica> replicas = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (String name : read) {
      add(name, resolve, replicas, names);
    }
    int readCount = replicas.size();
    for (List<String> set : writeSets) {
      for (String name : set) {
        if (!names.contains(name)) {
          add(name, resolve, replicas, names);
        }
      }
    }
    List<int[]> sets = new ArrayList<>(writeSets.size());
    for (List<String> set : writeSets) {
      // a member whose address is unknown has no index: it could never ack
      int[] indices = set.stream().mapToInt(names::indexOf).filter(i -> i >= 0).toArray();
      sets.add(indices);
    }
    return new Placement(epoch, replicas, readCount, sets);
  }

  private static void add(
      String name, Function<String, Replica> resolve, List<Replica> replicas, List<String> names) {
    Replica r = resolve.apply(name);
    if (r != null) {
      replicas.add(r);
      names.add(name);
    }
  }

  /** The replica names, read set first. */
  public List<String> names() {
    return replicas.stream().map(Replica::node).toList();
  }

  /** The smallest number of replicas any one write set holds. */
  public int smallestWriteSet() {
    int min = Integer.MAX_VALUE;
    for (int[] set : writeSets) {
      min = Math.min(min, set.length);
    }
    return writeSets.isEmpty() ? 0 : min;
  }

  /** Whether every write set holds {@code w} replicas that answered in {@code acks}. */
  public boolean writeMet(QuorumTally acks, int w) {
    for (int[] set : writeSets) {
      int n = 0;
      for (int i : set) {
        if (acks.hasAnswered(i)) {
          n++;
        }
      }
      if (n < w) {
        return false;
      }
    }
    return true;
  }

  /** Whether every write set can still reach {@code w} answers: counts replicas not yet failed. */
  public boolean writeStillPossible(QuorumTally acks, int w) {
    return writeStillPossible(i -> !acks.hasFailed(i), w);
  }

  /** Whether every write set holds {@code w} replicas (by index) for which {@code mayAck} holds. */
  public boolean writeStillPossible(IntPredicate mayAck, int w) {
    for (int[] set : writeSets) {
      int n = 0;
      for (int i : set) {
        if (mayAck.test(i)) {
          n++;
        }
      }
      if (n < w) {
        return false;
      }
    }
    return true;
  }
}
