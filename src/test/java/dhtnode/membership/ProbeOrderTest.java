package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProbeOrderTest {

  private static ProbeOrder orderOf(long seed, int n) {
    ProbeOrder order = new ProbeOrder(new Random(seed));
    for (int i = 0; i < n; i++) {
      order.add("m" + i);
    }
    return order;
  }

  private static List<String> round(ProbeOrder order, int n) {
    List<String> picked = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      picked.add(order.next().orElseThrow());
    }
    return picked;
  }

  @Test
  void everyMemberIsProbedExactlyOncePerRound() {
    for (long seed = 0; seed < 50; seed++) {
      ProbeOrder order = orderOf(seed, 7);
      for (int r = 0; r < 5; r++) {
        assertEquals(7, new HashSet<>(round(order, 7)).size(), "seed " + seed + " round " + r);
      }
    }
  }

  @Test
  void roundsAreReshuffled() {
    ProbeOrder order = orderOf(1, 10);
    Set<List<String>> rounds = new HashSet<>();
    for (int r = 0; r < 5; r++) {
      rounds.add(round(order, 10));
    }
    assertTrue(rounds.size() > 1, "every round had the same order");
  }

  @Test
  void aNewMemberIsProbedWithinTwoRounds() {
    for (long seed = 0; seed < 50; seed++) {
      ProbeOrder order = orderOf(seed, 5);
      round(order, 2);
      order.add("new");
      // the walk of this round plus one whole round
      assertTrue(round(order, 4 + 6).contains("new"), "seed " + seed);
    }
  }

  @Test
  void removedMembersAreNotProbedAndTheWalkContinues() {
    ProbeOrder order = orderOf(3, 4);
    String first = order.next().orElseThrow();
    String second = order.next().orElseThrow();
    order.remove(first);
    String third = order.next().orElseThrow();
    assertNotEquals(second, third);
    assertNotEquals(first, third);
    for (String name : round(order, 9)) {
      assertNotEquals(first, name);
    }
  }

  @Test
  void emptyOrderHasNobodyToProbe() {
    ProbeOrder order = new ProbeOrder(new Random(0));
    assertTrue(order.next().isEmpty());
    order.add("a");
    order.remove("a");
    assertTrue(order.next().isEmpty());
  }
}
