package dhtnode.api;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Whether a node serves quorum requests, and if not why: the decision behind {@code GET /ready}.
 * Liveness ({@code /health}) only says the process answers; a node is ready when it
 *
 * <ul>
 *   <li>has caught up with the cluster: it knows an agreed ring epoch and is in it (a joiner that
 *       no epoch has taken in yet is not);
 *   <li>reaches a majority of the ring's members (itself included; SUSPECT still counts, as SWIM
 *       has not given up on it): with fewer, most keys have no quorum it can reach;
 *   <li>is not refilling what it replicates after starting without its data (it would answer every
 *       read of those ranges from its replicas only while it catches up).
 * </ul>
 */
record Readiness(boolean ready, List<String> reasons, long epoch, int ringMembers, int reachable) {

  /**
   * @param ringMembers the members of the agreed ring (both sets while a transition runs)
   * @param swimStatus each member's SWIM status as this node sees it (ALIVE, SUSPECT, DEAD, LEFT)
   * @param recoveringRanges ranges this node replicates but has not refilled since it lost its data
   */
  static Readiness judge(
      String self,
      long epoch,
      Collection<String> ringMembers,
      Map<String, String> swimStatus,
      int recoveringRanges) {
    List<String> reasons = new ArrayList<>();
    int reachable = 0;
    for (String member : ringMembers) {
      String status = swimStatus.get(member);
      if (member.equals(self) || "ALIVE".equals(status) || "SUSPECT".equals(status)) {
        reachable++;
      }
    }
    if (epoch <= 0 || ringMembers.isEmpty()) {
      reasons.add("no agreed ring epoch yet: it has not caught up with the cluster");
    } else if (!ringMembers.contains(self)) {
      reasons.add("not in ring epoch " + epoch + " yet: it is joining");
    }
    int majority = ringMembers.size() / 2 + 1;
    if (!ringMembers.isEmpty() && reachable < majority) {
      reasons.add(
          "reaches "
              + reachable
              + " of the ring's "
              + ringMembers.size()
              + " members, fewer than a majority ("
              + majority
              + ")");
    }
    if (recoveringRanges > 0) {
      reasons.add(
          "refilling "
              + recoveringRanges
              + " range(s) it replicates after starting without its data");
    }
    return new Readiness(
        reasons.isEmpty(), List.copyOf(reasons), epoch, ringMembers.size(), reachable);
  }
}
