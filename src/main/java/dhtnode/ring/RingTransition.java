package dhtnode.ring;

import dhtnode.keyspace.TokenRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongFunction;

/**
 * What a transition from one ring to the next asks of its members, computed the same way on every
 * node from the two rings alone. A member <em>gains</em> a range where it is among the range's
 * replicas in the next ring but not in the old one; it must fill such a range from the range's old
 * replicas before reads may move to the next ring.
 */
public final class RingTransition {
  private RingTransition() {}

  /**
   * A range a member gains, with the old ring's replicas of it (in preference order): the only
   * nodes that may serve its fill.
   */
  public record Gain(TokenRange range, List<String> oldReplicas) {
    public Gain {
      oldReplicas = List.copyOf(oldReplicas);
    }
  }

  /**
   * The ranges {@code member} gains from {@code before} to {@code after}, in ring order, adjacent
   * arcs with the same old replicas merged (across the wrap point too).
   */
  public static List<Gain> gains(String member, HashRing before, HashRing after) {
    return collect(
        HashRing.boundaries(before, after),
        token -> {
          List<String> old = before.preferenceList(token);
          return after.preferenceList(token).contains(member) && !old.contains(member) ? old : null;
        });
  }

  /**
   * The ranges {@code member} replicates in {@code ring}, each with its full replica list (the
   * member included), grouped like {@link #gains}: what a node that lost its data refills.
   */
  public static List<Gain> replicated(String member, HashRing ring) {
    return collect(
        HashRing.boundaries(ring),
        token -> {
          List<String> replicas = ring.preferenceList(token);
          return replicas.contains(member) ? replicas : null;
        });
  }

  /** Segments between {@code cuts} whose end token maps to a non-null list, merged by that list. */
  private static List<Gain> collect(long[] cuts, LongFunction<List<String>> listOf) {
    int n = cuts.length;
    List<Gain> out = new ArrayList<>();
    int selected = 0;
    for (int k = 0; k < n; k++) {
      long start = cuts[(k - 1 + n) % n];
      long end = cuts[k];
      List<String> list = listOf.apply(end);
      if (list == null) {
        continue;
      }
      selected++;
      Gain last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last.range().end() == start && last.oldReplicas().equals(list)) {
        out.set(out.size() - 1, new Gain(new TokenRange(last.range().start(), end), list));
      } else {
        out.add(new Gain(new TokenRange(start, end), list));
      }
    }
    if (n > 0 && selected == n && out.size() == 1) {
      return List.of(new Gain(TokenRange.full(), out.get(0).oldReplicas()));
    }
    if (out.size() > 1) {
      Gain first = out.get(0);
      Gain last = out.get(out.size() - 1);
      if (last.range().end() == first.range().start()
          && last.oldReplicas().equals(first.oldReplicas())) {
        out.set(
            0,
            new Gain(
                new TokenRange(last.range().start(), first.range().end()), first.oldReplicas()));
        out.remove(out.size() - 1);
      }
    }
    return List.copyOf(out);
  }

  /**
   * Whether, for every range of {@code old}, at most {@code readQuorum - 1} of its replicas are
   * missing from {@code reported}: the nodes that have reported being at the epoch that moved reads
   * to the new ring fence every request of an older epoch, so no read quorum can form at one, and
   * writes may stop reaching the old replicas.
   */
  public static boolean barrierMet(HashRing old, Set<String> reported, int readQuorum) {
    for (long end : HashRing.boundaries(old)) {
      List<String> replicas = old.preferenceList(end);
      int behind = 0;
      for (String r : replicas) {
        if (!reported.contains(r)) {
          behind++;
        }
      }
      if (behind >= readQuorum) {
        return false;
      }
    }
    return true;
  }

  /** Every member that gains some range from {@code before} to {@code after}. */
  public static Set<String> gainers(HashRing before, HashRing after) {
    Set<String> out = new TreeSet<>();
    for (long end : HashRing.boundaries(before, after)) {
      List<String> old = before.preferenceList(end);
      for (String replica : after.preferenceList(end)) {
        if (!old.contains(replica)) {
          out.add(replica);
        }
      }
    }
    return Set.copyOf(out);
  }
}
