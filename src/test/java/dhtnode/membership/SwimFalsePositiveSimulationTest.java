package dhtnode.membership;

import static dhtnode.membership.SwimSimulationTest.DEFAULTS;
import static dhtnode.membership.SwimSimulationTest.T;
import static dhtnode.membership.SwimSimulationTest.cpuSeconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * SWIM's false positives in the deterministic simulator: per probe against the SWIM paper's formula
 * by loss and K, and no false DEAD with the shipped defaults among 100 members at 5% loss and 1,000
 * at 1% over ten simulated minutes. A class of its own, apart from {@link SwimSimulationTest}, so
 * the two longest simulations run in the unit phase's two test JVMs side by side.
 */
class SwimFalsePositiveSimulationTest {
  /** The paper's false-positive probability per probe of a live member: (1 - q^2)(1 - q^4)^K. */
  private static double paperFalsePositive(double loss, int k) {
    double q = 1 - loss;
    return (1 - q * q) * Math.pow(1 - Math.pow(q, 4), k);
  }

  @Test
  void falsePositivesPerProbeFollowThePaperByLossAndK() {
    double cpu = cpuSeconds();
    double[][] cases = {
      {0.01, 0}, {0.01, 1}, {0.05, 0}, {0.05, 1}, {0.05, 2}, {0.10, 0}, {0.10, 1}, {0.10, 2},
      {0.10, 3}, {0.15, 0}, {0.15, 1}, {0.15, 2}, {0.15, 3}
    };
    for (double[] c : cases) {
      double loss = c[0];
      int k = (int) c[1];
      double expected = paperFalsePositive(loss, k);
      // enough probes for about 200 expected false positives
      int n = 50;
      long periods = Math.max(200, (long) Math.ceil(200 / expected / n));
      SwimSimulator sim =
          new SwimSimulator(
              1000 + (long) (loss * 100) * 10 + k,
              SwimSimulationTest.with("indirect-probes = " + k),
              SwimSimulator.NetworkModel.lan(loss));
      sim.recordEvents = false;
      sim.startStable(n);
      sim.runFor(Duration.ofSeconds(5));
      long[] before = totals(sim);
      sim.runFor(Duration.ofNanos(periods * T));
      long[] after = totals(sim);
      long probes = 0;
      for (int i = 0; i < before.length; i++) {
        probes += after[i] - before[i];
      }
      long failed =
          after[SwimProtocol.ProbeOutcome.FAILED.ordinal()]
              - before[SwimProtocol.ProbeOutcome.FAILED.ordinal()];
      double measured = failed / (double) probes;
      System.out.printf(
          "SWIM-SIM false positives loss=%.0f%% K=%d: %.5f per probe (paper %.5f), %d of %d probes%n",
          loss * 100, k, measured, expected, failed, probes);
      assertEquals(expected, measured, 0.2 * expected, "loss " + loss + " K " + k);
    }
    System.out.printf("SWIM-SIM false-positive runs took %.1f s CPU%n", cpuSeconds() - cpu);
  }

  private static long[] totals(SwimSimulator sim) {
    long[] sum = new long[SwimProtocol.ProbeOutcome.values().length];
    for (SwimSimulator.Node node : sim.nodes()) {
      for (int i = 0; i < sum.length; i++) {
        sum[i] += node.outcomes[i];
      }
    }
    return sum;
  }

  /**
   * Runs {@code n} members for {@code minutes} under {@code loss}; returns the false DEAD count.
   */
  private static long falseDeaths(int n, double loss, int minutes, long seed) {
    double cpu = cpuSeconds();
    SwimSimulator sim = new SwimSimulator(seed, DEFAULTS, SwimSimulator.NetworkModel.lan(loss));
    sim.recordEvents = false;
    long[] deaths = new long[1];
    long[] suspicions = new long[1];
    sim.onEvent(
        p -> {
          if (p.event() instanceof MemberEvent.MemberDied died) {
            deaths[0]++;
            System.out.printf(
                "SWIM-SIM false DEAD at %.1f s: %s declared %s dead (%s)%n",
                p.nanos() / 1e9, p.at().name, died.member().name(), died.reason());
          } else if (p.event() instanceof MemberEvent.MemberSuspected s
              && s.by().equals(p.at().name)) {
            suspicions[0]++;
          }
        });
    sim.startStable(n);
    sim.runFor(Duration.ofMinutes(minutes));
    long refutations = sim.nodes().stream().mapToLong(x -> x.refutations).sum();
    System.out.printf(
        "SWIM-SIM %d members, %.0f%% loss, %d min: %d false DEAD, %d suspicions raised, %d refutations,"
            + " %.2f datagrams sent per member per period, max local health %d [%.1f s CPU]%n",
        n,
        loss * 100,
        minutes,
        deaths[0],
        suspicions[0],
        refutations,
        sim.totalSent() / (double) n / (minutes * 60.0 * 1e9 / T),
        sim.nodes().stream().mapToInt(x -> x.protocol.localHealth()).max().orElse(0),
        cpuSeconds() - cpu);
    double perPeriod = sim.totalSent() / (double) n / (minutes * 60.0 * 1e9 / T);
    assertTrue(perPeriod < 2.0 + 60 * loss, "datagrams per member per period " + perPeriod);
    return deaths[0];
  }

  @Test
  void noFalseDeadAmongAHundredMembersAtFivePercentLossOverTenMinutes() {
    assertEquals(0, falseDeaths(100, 0.05, 10, 7));
  }

  @Test
  void noFalseDeadAmongAThousandMembersAtOnePercentLossOverTenMinutes() {
    assertEquals(0, falseDeaths(1000, 0.01, 10, 8));
  }
}
