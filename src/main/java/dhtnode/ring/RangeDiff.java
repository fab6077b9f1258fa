package dhtnode.ring;

import dhtnode.keyspace.Ranges;
import dhtnode.keyspace.TokenRange;
import java.util.List;

/**
 * What one member must take on and may give up when the ring changes: the token ranges for which it
 * is a replica (any of the N, not only the primary) in {@code after} but not in {@code before}
 * ({@code gained}), and the reverse ({@code lost}). Ranges are in ring order, adjacent arcs merged,
 * the wrapping one included; correct for any difference between the rings (joins, leaves, failures,
 * several at once, a different replication factor).
 */
public record RangeDiff(String member, List<TokenRange> gained, List<TokenRange> lost) {

  public RangeDiff {
    gained = List.copyOf(gained);
    lost = List.copyOf(lost);
  }

  public static RangeDiff of(String member, HashRing before, HashRing after) {
    // cut at both rings' tokens: inside each piece neither ring's preference list changes
    long[] cuts = HashRing.boundaries(before, after);
    List<TokenRange> gained =
        Ranges.collect(
            cuts,
            t ->
                after.preferenceList(t).contains(member)
                    && !before.preferenceList(t).contains(member));
    List<TokenRange> lost =
        Ranges.collect(
            cuts,
            t ->
                before.preferenceList(t).contains(member)
                    && !after.preferenceList(t).contains(member));
    return new RangeDiff(member, gained, lost);
  }

  public boolean isEmpty() {
    return gained.isEmpty() && lost.isEmpty();
  }
}
