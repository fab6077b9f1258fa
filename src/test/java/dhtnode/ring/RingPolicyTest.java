package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.membership.Member;
import dhtnode.membership.MemberStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RingPolicyTest {
  private static final long DELAY = 30_000;
  private static final long NOW = 1_000_000;
  private static final long WALL = 1_700_000_000_000L;

  private static RingMember rm(String name) {
    return new RingMember(name, "127.0.0.1", 7000 + name.charAt(name.length() - 1), 8000);
  }

  private static List<RingMember> rms(String... names) {
    List<RingMember> out = new ArrayList<>();
    for (String n : names) {
      out.add(rm(n));
    }
    return out;
  }

  private static RingConfig stable(String... names) {
    return RingConfig.stable(rms(names), Map.of(), "", "node1");
  }

  private static RingConfig transition(List<String> current, List<String> next) {
    return RingConfig.of(
        rms(current.toArray(String[]::new)),
        rms(next.toArray(String[]::new)),
        Map.of(),
        "",
        "node1");
  }

  /** A SWIM view: every name ALIVE unless given another status as "name:DEAD". */
  private static Map<String, Member> swim(String... entries) {
    Map<String, Member> out = new TreeMap<>();
    for (String e : entries) {
      String[] parts = e.split(":");
      MemberStatus status = parts.length > 1 ? MemberStatus.valueOf(parts[1]) : MemberStatus.ALIVE;
      RingMember m = rm(parts[0]);
      out.put(
          m.name(),
          new Member(m.name(), m.host(), m.clusterPort(), m.httpPort(), status, WALL - 5_000));
    }
    return out;
  }

  private static final class Case {
    RingConfig config;
    Map<String, Member> swim = Map.of();
    Map<String, Long> downSince = new HashMap<>();
    Set<String> gainers = Set.of();
    Set<String> fillsDone = Set.of();
    Set<String> forceRemove = Set.of();
    boolean decommission;
    long clock = NOW;
    String self = "node1";
    boolean barrierMet;

    Optional<RingConfig> decide() {
      return new RingPolicy(self, DELAY)
          .decide(
              new RingPolicy.Inputs(
                  config,
                  swim,
                  downSince,
                  gainers,
                  fillsDone,
                  barrierMet,
                  forceRemove,
                  decommission,
                  clock,
                  WALL));
    }
  }

  @Test
  void aliveMembersOutsideTheConfigJoinTogetherInOneTransition() {
    Case c = new Case();
    c.config = stable("node1", "node2", "node3");
    c.swim = swim("node1", "node2", "node3", "node4", "node5", "node6:SUSPECT", "node7:DEAD");
    RingConfig next = c.decide().orElseThrow();
    assertEquals(Set.of("node1", "node2", "node3"), next.currentNames());
    assertEquals(Set.of("node1", "node2", "node3", "node4", "node5"), next.nextNames());
    assertTrue(next.change().contains("joined [node4, node5]"), next.change());
    assertEquals("node1", next.proposer());
  }

  @Test
  void onlyTheLowestNamedAliveMemberOfCurrentProposes() {
    Case c = new Case();
    c.config = stable("node1", "node2", "node3");
    c.swim = swim("node1", "node2", "node3", "node4");
    c.self = "node2";
    assertEquals(Optional.empty(), c.decide(), "node1 leads while node2 sees it alive");
    c.swim = swim("node1:SUSPECT", "node2", "node3", "node4");
    assertEquals(
        Set.of("node1", "node2", "node3", "node4"),
        c.decide().orElseThrow().nextNames(),
        "node2 takes over when node1 is not alive to it");
    c.self = "node4";
    assertEquals(Optional.empty(), c.decide(), "a member not in current never leads");
  }

  @Test
  void aMemberIsRemovedOnlyAfterBeingDownForTheWholeDelay() {
    Case c = new Case();
    c.config = stable("node1", "node2", "node3");
    c.swim = swim("node1", "node2", "node3:DEAD");
    c.downSince.put("node3", NOW - DELAY + 1);
    assertEquals(Optional.empty(), c.decide(), "1 ms short of the delay");
    c.clock = NOW + 1;
    RingConfig next = c.decide().orElseThrow();
    assertEquals(
        Set.of("node1", "node2", "node3"), next.currentNames(), "reads stay on the old set");
    assertEquals(Set.of("node1", "node2"), next.nextNames());
    assertTrue(next.change().contains("removed [node3]"), next.change());
  }

  @Test
  void aMemberBackBeforeTheDelayMovesNothing() {
    Case c = new Case();
    c.config = stable("node1", "node2", "node3");
    // node3 was dead for a while, and is alive again: the caller forgot when it went down
    c.swim = swim("node1", "node2", "node3");
    assertEquals(Optional.empty(), c.decide());
  }

  @Test
  void aTransitionFinishesOnlyAfterEveryGainerReportedFillDone() {
    Case c = new Case();
    c.config =
        transition(List.of("node1", "node2", "node3"), List.of("node1", "node2", "node3", "node4"));
    c.swim = swim("node1", "node2", "node3", "node4");
    c.gainers = Set.of("node4", "node2");
    c.fillsDone = Set.of("node4");
    assertEquals(Optional.empty(), c.decide());
    c.fillsDone = Set.of("node4", "node2", "node3");
    RingConfig moved = c.decide().orElseThrow();
    assertTrue(
        moved.inTransition() && moved.readsMoved(), "first reads move, writes still reach both");
    assertEquals(c.config.currentNames(), moved.currentNames());
    assertEquals(c.config.nextNames(), moved.nextNames());
    c.config = moved;
    c.fillsDone = Set.of();
    c.swim = swim("node1", "node2", "node3", "node4", "node5");
    assertEquals(Optional.empty(), c.decide(), "nothing else, not even a join, before the barrier");
    c.barrierMet = true;
    RingConfig finished = c.decide().orElseThrow();
    assertTrue(!finished.inTransition());
    assertEquals(Set.of("node1", "node2", "node3", "node4"), finished.currentNames());
    assertEquals("finished", finished.change());
  }

  @Test
  void oneTransitionAtATimeANewJoinerRetargetsKeepingCurrent() {
    Case c = new Case();
    c.config =
        transition(List.of("node1", "node2", "node3"), List.of("node1", "node2", "node3", "node4"));
    c.swim = swim("node1", "node2", "node3", "node4", "node5");
    c.gainers = Set.of("node4");
    c.fillsDone = Set.of("node4");
    RingConfig next = c.decide().orElseThrow();
    assertEquals(Set.of("node1", "node2", "node3"), next.currentNames(), "current is kept");
    assertEquals(Set.of("node1", "node2", "node3", "node4", "node5"), next.nextNames());
    assertTrue(next.change().startsWith("retargeted"), next.change());
  }

  @Test
  void aJoinerThatDiesForTheDelayIsRetargetedAwayAndAnEmptyMoveBecomesStable() {
    Case c = new Case();
    c.config =
        transition(List.of("node1", "node2", "node3"), List.of("node1", "node2", "node3", "node4"));
    c.swim = swim("node1", "node2", "node3", "node4:DEAD");
    c.gainers = Set.of("node4");
    c.downSince.put("node4", NOW - DELAY);
    RingConfig next = c.decide().orElseThrow();
    assertTrue(!next.inTransition());
    assertEquals(Set.of("node1", "node2", "node3"), next.currentNames());
  }

  @Test
  void forceRemovalDropsAMemberFromBothSetsAndRetiresIt() {
    Case c = new Case();
    c.self = "node2"; // not the leader: operator requests are proposed where they were made
    c.config = transition(List.of("node1", "node2", "node3"), List.of("node1", "node2"));
    c.swim = swim("node1", "node2", "node3:DEAD");
    c.forceRemove = Set.of("node3");
    RingConfig next = c.decide().orElseThrow();
    assertEquals(Set.of("node1", "node2"), next.currentNames());
    assertEquals(Set.of("node1", "node2"), next.nextNames());
    assertEquals(Map.of("node3", WALL), next.retired());
    assertTrue(next.change().contains("force-removed [node3]"), next.change());
  }

  @Test
  void aRetiredMemberStillRunningIsNotAddedBackButARestartedOneIs() {
    Case c = new Case();
    c.config = RingConfig.stable(rms("node1", "node2"), Map.of("node3", WALL - 1_000), "", "node1");
    c.swim = swim("node1", "node2", "node3"); // incarnation WALL - 5000: started before it retired
    assertEquals(Optional.empty(), c.decide());
    Map<String, Member> restarted = new TreeMap<>(c.swim);
    Member old = restarted.get("node3");
    restarted.put("node3", old.withStatus(MemberStatus.ALIVE, WALL));
    c.swim = restarted;
    assertEquals(Set.of("node1", "node2", "node3"), c.decide().orElseThrow().nextNames());
  }

  @Test
  void decommissionMovesThisNodeOutOfNextAndFinishesLikeAnyTransition() {
    Case c = new Case();
    c.self = "node3";
    c.config = stable("node1", "node2", "node3");
    c.swim = swim("node1", "node2", "node3");
    c.decommission = true;
    RingConfig next = c.decide().orElseThrow();
    assertEquals(Set.of("node1", "node2", "node3"), next.currentNames());
    assertEquals(Set.of("node1", "node2"), next.nextNames());
    assertTrue(next.retired().containsKey("node3"));
    // committed: the leader finishes it once the gainers filled; nobody adds node3 back
    Case leader = new Case();
    leader.config = next;
    leader.swim = c.swim;
    leader.gainers = Set.of();
    leader.config = leader.decide().orElseThrow();
    assertTrue(leader.config.readsMoved());
    leader.barrierMet = true;
    RingConfig finished = leader.decide().orElseThrow();
    assertEquals(Set.of("node1", "node2"), finished.currentNames());
    leader.config = finished;
    assertEquals(Optional.empty(), leader.decide());
  }

  @Test
  void gainersAreTheNodesInANewPreferenceListOnly() {
    HashRing three = HashRing.of(List.of("node1", "node2", "node3"), 16, 3);
    HashRing four = HashRing.of(List.of("node1", "node2", "node3", "node4"), 16, 3);
    assertEquals(
        Set.of("node4"),
        RingPolicy.gainers(three, four),
        "with N=3 every old node already replicates all");
    HashRing two = HashRing.of(List.of("node1", "node2"), 16, 3);
    assertEquals(
        Set.of(),
        RingPolicy.gainers(three, two),
        "a removal from 3 to 2 nodes gains nobody anything");
    assertEquals(Set.of(), RingPolicy.gainers(four, four));
  }

  @Test
  void aMemberBackAliveWhileItsRemovalIsFillingIsKeptAndTheRemovalUndone() {
    Case c = new Case();
    c.config =
        transition(List.of("node1", "node2", "node3", "node4"), List.of("node1", "node2", "node3"));
    c.swim = swim("node1", "node2", "node3", "node4");
    c.gainers = Set.of("node1");
    RingConfig undone = c.decide().orElseThrow();
    assertTrue(!undone.inTransition(), "back to the ring it never left: nothing moves");
    assertEquals(Set.of("node1", "node2", "node3", "node4"), undone.currentNames());
    c.config =
        transition(List.of("node1", "node2", "node3", "node4"), List.of("node1", "node2", "node3"))
            .withReadsMoved("node1");
    assertEquals(Optional.empty(), c.decide(), "once reads moved, the removal completes first");
  }
}
