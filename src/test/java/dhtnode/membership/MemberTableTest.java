package dhtnode.membership;

import static dhtnode.membership.MemberStatus.ALIVE;
import static dhtnode.membership.MemberStatus.DEAD;
import static dhtnode.membership.MemberStatus.LEFT;
import static dhtnode.membership.MemberStatus.SUSPECT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.membership.MemberTable.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MemberTableTest {

  private static Member member(String name, MemberStatus status, long incarnation) {
    return new Member(name, "127.0.0.1", 7001, 8001, status, incarnation);
  }

  private static MemberTable tableOf(Member... others) {
    MemberTable table = new MemberTable(member("self", ALIVE, 100));
    for (Member m : others) {
      table.apply(m, 0);
    }
    return table;
  }

  /** Pairs (incoming, current) that win at equal incarnation, written out rather than derived. */
  private static final Set<List<MemberStatus>> WINS_AT_EQUAL_INCARNATION =
      Set.of(
          List.of(SUSPECT, ALIVE),
          List.of(DEAD, ALIVE),
          List.of(DEAD, SUSPECT),
          List.of(LEFT, ALIVE),
          List.of(LEFT, SUSPECT));

  static Stream<Arguments> everyStatusPairAndIncarnationOrder() {
    List<Arguments> cases = new ArrayList<>();
    for (MemberStatus incoming : MemberStatus.values()) {
      for (MemberStatus current : MemberStatus.values()) {
        cases.add(Arguments.of(incoming, 6L, current, true));
        cases.add(Arguments.of(incoming, 4L, current, false));
        cases.add(
            Arguments.of(
                incoming,
                5L,
                current,
                WINS_AT_EQUAL_INCARNATION.contains(List.of(incoming, current))));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}@{1} over {2}@5 wins: {3}")
  @MethodSource("everyStatusPairAndIncarnationOrder")
  void precedenceIsHigherIncarnationThenSuspectOverAliveThenDeadOrLeftOverBoth(
      MemberStatus incoming, long incarnation, MemberStatus current, boolean wins) {
    assertEquals(
        wins, MemberTable.supersedes(member("a", incoming, incarnation), member("a", current, 5)));

    MemberTable table = tableOf(member("a", current, 5));
    table.apply(member("a", incoming, incarnation), 1);
    Member expected = wins ? member("a", incoming, incarnation) : member("a", current, 5);
    assertEquals(expected, table.get("a").orElseThrow());
  }

  @Test
  void unknownUpMemberJoinsAndUnknownDeadOneIsOnlyRecorded() {
    MemberTable table = tableOf();
    assertEquals(Outcome.JOINED, table.apply(member("a", ALIVE, 1), 0).outcome());
    assertEquals(Outcome.RECORDED_DOWN, table.apply(member("b", DEAD, 1), 0).outcome());
    assertEquals(List.of("a"), table.upOthers().stream().map(Member::name).toList());
    assertEquals(2, table.upCount());
  }

  @Test
  void outcomesNameTheTransition() {
    MemberTable table = tableOf(member("a", ALIVE, 1));
    assertEquals(Outcome.SUSPECTED, table.suspect("a", 1).outcome());
    assertEquals(Outcome.ALIVE_AGAIN, table.apply(member("a", ALIVE, 2), 1).outcome());
    assertEquals(Outcome.UPDATED, table.apply(member("a", ALIVE, 3), 1).outcome());
    assertEquals(Outcome.DIED, table.apply(member("a", DEAD, 3), 1).outcome());
    assertEquals(Outcome.JOINED, table.apply(member("a", ALIVE, 4), 1).outcome());
    assertEquals(Outcome.LEFT, table.apply(member("a", LEFT, 4), 1).outcome());
  }

  @Test
  void staleAliveOrSuspectNeverResurrectsADeadMember() {
    MemberTable table = tableOf(member("a", DEAD, 7));
    assertEquals(Outcome.IGNORED, table.apply(member("a", ALIVE, 7), 1).outcome());
    assertEquals(Outcome.IGNORED, table.apply(member("a", SUSPECT, 7), 1).outcome());
    assertEquals(Outcome.IGNORED, table.apply(member("a", ALIVE, 3), 1).outcome());
    assertEquals(DEAD, table.get("a").orElseThrow().status());
  }

  @Test
  void suspicionIsConfirmedOnlyAtTheSuspectedIncarnation() {
    MemberTable table = tableOf(member("a", ALIVE, 1));
    table.suspect("a", 1);
    table.apply(member("a", SUSPECT, 2), 1);
    assertEquals(Outcome.IGNORED, table.confirmDead("a", 1, 2).outcome());
    assertEquals(Outcome.DIED, table.confirmDead("a", 2, 2).outcome());
  }

  @Test
  void onlyAliveMembersAreSuspected() {
    MemberTable table = tableOf(member("a", DEAD, 1));
    assertEquals(Outcome.IGNORED, table.suspect("a", 1).outcome());
    assertEquals(Outcome.IGNORED, table.suspect("self", 1).outcome());
  }

  @Test
  void claimThatSelfIsSuspectOrDeadIsRefutedWithAHigherIncarnation() {
    MemberTable table = tableOf();
    MemberTable.Change change = table.apply(member("self", SUSPECT, 100), 1);
    assertEquals(Outcome.REFUTED, change.outcome());
    assertEquals(member("self", ALIVE, 101), table.self());

    // a restarted node that the cluster remembers DEAD far above its start incarnation
    assertEquals(Outcome.REFUTED, table.apply(member("self", DEAD, 500), 1).outcome());
    assertEquals(member("self", ALIVE, 501), table.self());
  }

  @Test
  void staleClaimsAboutSelfAndAliveClaimsAreIgnored() {
    MemberTable table = tableOf();
    assertEquals(Outcome.IGNORED, table.apply(member("self", DEAD, 99), 1).outcome());
    assertEquals(Outcome.IGNORED, table.apply(member("self", ALIVE, 1000), 1).outcome());
    assertEquals(member("self", ALIVE, 100), table.self());
  }

  @Test
  void aNodeThatLeftRefutesNothing() {
    MemberTable table = tableOf();
    table.leave();
    assertEquals(Outcome.IGNORED, table.apply(member("self", DEAD, 100), 1).outcome());
    assertEquals(LEFT, table.self().status());
  }

  @Test
  void downMembersAreForgottenAfterRetentionButUpOnesStay() {
    MemberTable table = tableOf(member("a", ALIVE, 1), member("b", ALIVE, 1));
    table.apply(member("a", DEAD, 1), 10);
    table.apply(member("b", LEFT, 1), 20);
    assertTrue(table.purge(10).isEmpty());
    assertEquals(List.of("a"), table.purge(11).stream().map(Member::name).toList());
    assertEquals(List.of("b", "self"), table.all().stream().map(Member::name).toList());
    assertEquals(List.of("b"), table.purge(100).stream().map(Member::name).toList());
    assertEquals(List.of("self"), table.all().stream().map(Member::name).toList());
  }

  @Test
  void upCountAndRandomUpOthersFollowEveryChange() {
    MemberTable table =
        tableOf(member("a", ALIVE, 1), member("b", ALIVE, 1), member("c", SUSPECT, 1));
    assertEquals(4, table.upCount());
    table.apply(member("a", DEAD, 1), 1);
    table.apply(member("b", LEFT, 1), 1);
    assertEquals(2, table.upCount());
    table.apply(member("a", ALIVE, 2), 2);
    assertEquals(3, table.upCount());
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < 20; i++) {
      assertEquals(
          Set.of("a", "c"),
          Set.copyOf(table.randomUpOthers(5, null, random).stream().map(Member::name).toList()));
      assertEquals(
          List.of("c"), table.randomUpOthers(3, "a", random).stream().map(Member::name).toList());
    }
    table.purge(100);
    table.leave();
    assertEquals(2, table.upCount());
  }

  @Test
  void randomUpOthersSamplesDistinctMembersFromALargeTable() {
    List<Member> many = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      many.add(member("m" + i, ALIVE, 1));
    }
    MemberTable table = tableOf(many.toArray(Member[]::new));
    java.util.Random random = new java.util.Random(3);
    java.util.Map<String, Integer> counts = new java.util.HashMap<>();
    for (int round = 0; round < 2000; round++) {
      List<Member> picked = table.randomUpOthers(3, "m0", random);
      assertEquals(3, Set.copyOf(picked).size());
      picked.forEach(m -> counts.merge(m.name(), 1, Integer::sum));
    }
    assertTrue(!counts.containsKey("m0") && !counts.containsKey("self"));
    // uniform: 6000 picks over 999 members, about 6 each; none should dominate
    assertTrue(counts.values().stream().allMatch(c -> c < 25), "skewed sample " + counts);
    assertTrue(counts.size() > 950, "only " + counts.size() + " distinct members picked");
  }
}
