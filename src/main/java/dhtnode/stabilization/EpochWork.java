package dhtnode.stabilization;

import dhtnode.keyspace.TokenRange;
import dhtnode.keyspace.TokenRangeSet;
import dhtnode.ring.HashRing;
import dhtnode.ring.RingSnapshot;
import dhtnode.ring.RingTransition;
import java.util.ArrayList;
import java.util.List;

/**
 * What one node must do with its data at one ring epoch, decided from the snapshot alone, so every
 * rule is tested without actors. Three kinds of work:
 *
 * <ul>
 *   <li><em>fills</em>: in the first step of a transition, each range this node gains is merged
 *       from the range's replicas in the old ring, {@link #mergeBar} of them, the only nodes that
 *       can hold every write acknowledged before the transition;
 *   <li><em>refills</em>: a node that lost its data (empty data directory) while it is a replica
 *       merges each of its ranges from the other replicas before it answers reads there;
 *   <li><em>unheld</em> ranges: at a stable epoch, what this node replicates in no ring of the
 *       epoch, which it may delete.
 * </ul>
 */
final class EpochWork {
  private EpochWork() {}

  /**
   * Merge {@code range} from {@code mergeFrom} of {@code sources} (in that order of preference).
   */
  record Fill(TokenRange range, List<String> sources, int mergeFrom) {
    Fill {
      sources = List.copyOf(sources);
    }
  }

  /**
   * How many of a range's {@code replicas} old replicas a fill must merge: every write that
   * completed reached W of them, so any {@code replicas - W + 1} hold it. At least one, so data
   * written at a weaker consistency level on a ring smaller than W still moves; never more than
   * there are.
   */
  static int mergeBar(int replicas, int writeQuorum) {
    return Math.min(replicas, Math.max(1, replicas - writeQuorum + 1));
  }

  /** The ranges {@code self} gains in the filling step of a transition; none otherwise. */
  static List<Fill> fills(String self, RingSnapshot snapshot, int writeQuorum) {
    if (!snapshot.filling()) {
      return List.of();
    }
    List<Fill> out = new ArrayList<>();
    for (RingTransition.Gain gain : RingTransition.gains(self, snapshot.old(), snapshot.next())) {
      List<String> old = gain.oldReplicas();
      out.add(new Fill(gain.range(), old, mergeBar(old.size(), writeQuorum)));
    }
    return out;
  }

  /**
   * For a node that lost its data: each range it replicates in {@code ring}, from the other
   * replicas. A write acknowledged by W of the range's replicas is on at least W - 1 of the others,
   * so merging {@code replicas - W + 1} of them finds it.
   */
  static List<Fill> refills(String self, HashRing ring, int writeQuorum) {
    List<Fill> out = new ArrayList<>();
    for (RingTransition.Gain owned : RingTransition.replicated(self, ring)) {
      List<String> others = new ArrayList<>(owned.oldReplicas());
      others.remove(self);
      if (others.isEmpty()) {
        continue; // the only replica: there is nothing to refill from, and nothing was lost to
        // others
      }
      int bar = Math.min(others.size(), Math.max(1, owned.oldReplicas().size() - writeQuorum + 1));
      out.add(new Fill(owned.range(), others, bar));
    }
    return out;
  }

  /**
   * At a stable epoch, the ranges {@code self} does not replicate; none during a transition (old
   * replicas keep their copy until the stable epoch that drops them) or before any epoch.
   */
  static TokenRangeSet unheld(String self, RingSnapshot snapshot) {
    if (snapshot.epoch() == 0 || snapshot.inTransition()) {
      return TokenRangeSet.empty();
    }
    TokenRangeSet out = ReplicaStatus.EVERYTHING;
    for (TokenRange r : snapshot.ring().ownedRanges(self)) {
      out = out.minus(r);
    }
    return out;
  }
}
