package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The ring agreement under a deterministic simulation: several {@link RingAgreement}s exchange
 * messages through a virtual network on virtual time (a priority queue of events), with seeded
 * message loss, duplication, reordering and delays, partitions, proposers crashing and restarting
 * from their persisted state, and several nodes proposing different configurations at once. Each
 * seed is one schedule; every run covers thousands.
 *
 * <p>Safety: no two nodes ever commit different configurations for the same epoch. Progress: once
 * the faults stop and every node is up (so every majority is connected), a new epoch is committed
 * and every node learns it.
 */
class RingAgreementSimulationTest {

  private static final int SEEDS = Integer.getInteger("dht.sim.seeds", 2000);
  private static final RingAgreement.Timing TIMING = new RingAgreement.Timing(5, 4, 5);
  private static final long TICK_MS = 100;

  private static RingMember member(int i) {
    return new RingMember("n" + i, "10.0.0." + i, 7000, 8000);
  }

  /** One event on the virtual clock; {@code seq} breaks ties, so a seed replays exactly. */
  private record Event(long at, long seq, int node, Kind kind, RingMessage message) {}

  private enum Kind {
    DELIVER,
    TICK,
    CRASH,
    RESTART
  }

  private static final class Sim {
    final long seed;
    final Random random;
    final int size;
    final List<RingMember> universe = new ArrayList<>();
    final RingAgreement[] nodes;
    final RingState[] disk;
    final boolean[] up;
    final int[] group; // partition group of each node while partitioned
    final PriorityQueue<Event> queue =
        new PriorityQueue<>(
            (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    final Map<Long, RingConfig> decided = new HashMap<>();
    final Set<Integer> proposers = new HashSet<>();
    long seq;
    long now;
    long faultsEnd;
    double loss;
    double duplication;
    int proposals;
    long events;
    long vetoes;
    long proposeBelow = Long.MAX_VALUE;

    Sim(long seed) {
      this.seed = seed;
      this.random = new Random(seed);
      this.size = 3 + random.nextInt(3);
      nodes = new RingAgreement[size];
      disk = new RingState[size];
      up = new boolean[size];
      group = new int[size];
      for (int i = 0; i < size; i++) {
        universe.add(member(i));
      }
      // a first epoch some nodes share; the others have no state and must catch up
      List<RingMember> founders = randomSubset(0);
      RingConfig first = RingConfig.stable(founders, Map.of(), "first", "n0");
      decided.put(1L, first);
      for (int i = 0; i < size; i++) {
        disk[i] =
            first.contains("n" + i) ? new RingState(1, first, null, null, null) : RingState.EMPTY;
        start(i);
        schedule(random.nextInt((int) TICK_MS), i, Kind.TICK, null);
      }
      loss = random.nextDouble() * 0.4;
      duplication = random.nextDouble() * 0.2;
      faultsEnd = 2000 + random.nextInt(4000);
      int competing = 1 + random.nextInt(size);
      while (proposers.size() < competing) {
        proposers.add(random.nextInt(size));
      }
      // crashes and restarts during the faulty period
      int crashes = random.nextInt(4);
      for (int c = 0; c < crashes; c++) {
        int node = random.nextInt(size);
        long at = random.nextInt((int) faultsEnd);
        schedule(at, node, Kind.CRASH, null);
        schedule(Math.min(faultsEnd, at + 100 + random.nextInt(2000)), node, Kind.RESTART, null);
      }
    }

    /** A random non-empty subset of the members, always holding {@code must} if it is >= 0. */
    List<RingMember> randomSubset(int must) {
      List<RingMember> out = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        if (i == must || random.nextBoolean()) {
          out.add(universe.get(i));
        }
      }
      if (out.isEmpty()) {
        out.add(universe.get(random.nextInt(size)));
      }
      return out;
    }

    void start(int i) {
      nodes[i] =
          new RingAgreement(universe.get(i), disk[i], TIMING, new Random(seed * 31 + i + events));
      nodes[i].setPeers(universe);
      // what SWIM shows this node up: a random view, so that promises veto some removals
      List<String> seen = new ArrayList<>();
      for (RingMember m : randomSubset(-1)) {
        seen.add(m.name());
      }
      nodes[i].setSeenUp(seen);
      up[i] = true;
    }

    void schedule(long at, int node, Kind kind, RingMessage message) {
      queue.add(new Event(at, seq++, node, kind, message));
    }

    boolean faulty() {
      return now < faultsEnd;
    }

    void run(long until) {
      while (!queue.isEmpty() && queue.peek().at <= until) {
        Event e = queue.poll();
        now = e.at;
        events++;
        if (faulty() && random.nextInt(1000) == 0) {
          repartition();
        }
        if (!faulty()) {
          java.util.Arrays.fill(group, 0);
        }
        switch (e.kind) {
          case CRASH -> up[e.node] = false;
          case RESTART -> {
            if (!up[e.node]) {
              start(e.node);
            }
          }
          case TICK -> {
            schedule(now + TICK_MS, e.node, Kind.TICK, null);
            if (up[e.node]) {
              nodes[e.node].tick();
              maybePropose(e.node);
              step(e.node);
            }
          }
          case DELIVER -> {
            if (up[e.node]) {
              nodes[e.node].receive(e.message);
              step(e.node);
            }
          }
        }
      }
    }

    void repartition() {
      for (int i = 0; i < size; i++) {
        group[i] = random.nextInt(2);
      }
    }

    void maybePropose(int i) {
      RingAgreement node = nodes[i];
      if (!proposers.contains(i)
          || node.proposing()
          || node.epoch() == 0
          || node.epoch() >= proposeBelow
          || random.nextInt(8) != 0) {
        return;
      }
      proposals++;
      List<RingMember> current = randomSubset(-1);
      List<RingMember> next = randomSubset(-1);
      // half the values retire the members they drop, as an operator's removal would; the others
      // drop them unretired, which each dropped member refuses to accept and each promiser that
      // sees it up vetoes (RingAgreementTest): neither may block the slot
      Map<String, Long> retired = new java.util.TreeMap<>();
      if (random.nextBoolean()) {
        for (RingMember m : universe) {
          if (next.stream().noneMatch(n -> n.name().equals(m.name()))) {
            retired.put(m.name(), 1L);
          }
        }
      }
      RingConfig value = new RingConfig(current, next, retired, "n" + i + "#" + proposals, "n" + i);
      node.propose(value);
    }

    /** Persists, then sends: the order the actor keeps too. */
    void step(int i) {
      RingAgreement.Ready ready = nodes[i].drain();
      vetoes += ready.vetoes().size();
      if (ready.persist() != null) {
        disk[i] = ready.persist();
      }
      if (!ready.conflicts().isEmpty()) {
        fail("seed " + seed + ": " + ready.conflicts());
      }
      for (RingAgreement.Commit commit : ready.commits()) {
        RingConfig before = decided.putIfAbsent(commit.epoch(), commit.config());
        if (before != null && !before.equals(commit.config())) {
          fail(
              "seed "
                  + seed
                  + ": epoch "
                  + commit.epoch()
                  + " committed as "
                  + before
                  + " and, on n"
                  + i
                  + ", as "
                  + commit.config());
        }
      }
      for (RingAgreement.Outgoing o : ready.messages()) {
        int to = Integer.parseInt(o.to().name().substring(1));
        if (faulty()) {
          if (group[to] != group[i] || random.nextDouble() < loss) {
            continue;
          }
          int copies = random.nextDouble() < duplication ? 2 : 1;
          for (int c = 0; c < copies; c++) {
            schedule(now + 1 + random.nextInt(300), to, Kind.DELIVER, o.message());
          }
        } else {
          schedule(now + 1 + random.nextInt(30), to, Kind.DELIVER, o.message());
        }
      }
    }

    /** Runs until {@code done} holds (checked every virtual 200 ms) or {@code until}. */
    void runUntil(long until, java.util.function.BooleanSupplier done) {
      while (now < until && !done.getAsBoolean()) {
        long step = Math.min(until, now + 200);
        run(step);
        now = Math.max(now, step); // virtual time passes even when no event falls in the step
      }
    }

    boolean allAtLeast(long e) {
      for (RingAgreement n : nodes) {
        if (n.epoch() < e) {
          return false;
        }
      }
      return true;
    }

    boolean converged() {
      long e = nodes[0].epoch();
      for (RingAgreement n : nodes) {
        if (n.epoch() != e) {
          return false;
        }
      }
      return true;
    }

    long maxEpoch() {
      long max = 0;
      for (RingAgreement n : nodes) {
        max = Math.max(max, n.epoch());
      }
      return max;
    }
  }

  @Test
  void noEpochIsEverCommittedTwiceAndEveryNodeLearnsANewEpochOnceAMajorityIsConnected() {
    long totalEvents = 0;
    long totalVetoes = 0;
    long epochs = 0;
    for (long seed = 1; seed <= SEEDS; seed++) {
      Sim sim = new Sim(seed);
      sim.run(sim.faultsEnd);
      for (int i = 0; i < sim.size; i++) {
        if (!sim.up[i]) {
          sim.start(i);
        }
      }
      long before = sim.maxEpoch();
      // after the faults two nodes compete for one more epoch
      sim.proposers.clear();
      sim.proposers.add(0);
      sim.proposers.add(1 + sim.random.nextInt(sim.size - 1));
      sim.proposeBelow = before + 1;
      sim.runUntil(sim.faultsEnd + 20_000, () -> sim.allAtLeast(before + 1));
      totalEvents += sim.events;
      totalVetoes += sim.vetoes;
      long target = sim.maxEpoch();
      assertTrue(
          target > before,
          "seed " + seed + ": no epoch committed after healing (still " + before + ")");
      for (int i = 0; i < sim.size; i++) {
        assertTrue(
            sim.nodes[i].epoch() >= before + 1,
            "seed "
                + seed
                + ": n"
                + i
                + " stays at epoch "
                + sim.nodes[i].epoch()
                + " after healing");
      }
      // the proposers stop: every node converges on the same latest epoch
      sim.proposers.clear();
      for (RingAgreement n : sim.nodes) {
        n.withdraw();
      }
      sim.runUntil(sim.now + 10_000, sim::converged);
      long last = sim.maxEpoch();
      for (int i = 0; i < sim.size; i++) {
        assertEquals(last, sim.nodes[i].epoch(), "seed " + seed + ": n" + i + " caught up");
        assertEquals(sim.decided.get(last), sim.nodes[i].config(), "seed " + seed);
      }
      epochs += last;
    }
    assertTrue(epochs > SEEDS * 2L, "the runs committed epochs: " + epochs);
    assertTrue(totalVetoes > 0, "the runs exercised the withdrawal of removals seen up");
    System.out.println(
        "ring agreement simulation: "
            + SEEDS
            + " seeds, "
            + totalEvents
            + " events, "
            + epochs
            + " epochs committed, "
            + totalVetoes
            + " removals withdrawn because a promiser saw the member up");
  }

  @Test
  void aMinorityCannotCommitAndATwoTwoSplitCommitsNothing() {
    for (long seed = 1; seed <= 200; seed++) {
      Random random = new Random(seed);
      List<RingMember> four = List.of(member(0), member(1), member(2), member(3));
      RingConfig first = RingConfig.stable(four, Map.of(), "first", "n0");
      RingAgreement[] nodes = new RingAgreement[4];
      for (int i = 0; i < 4; i++) {
        nodes[i] =
            new RingAgreement(
                four.get(i),
                new RingState(1, first, null, null, null),
                TIMING,
                new Random(seed + i));
        nodes[i].setPeers(four);
      }
      // n0,n1 | n2,n3 and both halves propose for many ticks: messages only cross within a half
      nodes[0].propose(RingConfig.stable(List.of(member(0), member(1)), Map.of(), "left", "n0"));
      nodes[2].propose(RingConfig.stable(List.of(member(2), member(3)), Map.of(), "right", "n2"));
      List<RingAgreement.Outgoing> inFlight = new ArrayList<>();
      for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 4; i++) {
          if (random.nextInt(3) == 0) {
            nodes[i].tick();
          }
          RingAgreement.Ready ready = nodes[i].drain();
          assertTrue(
              ready.commits().isEmpty(), "seed " + seed + ": a half committed " + ready.commits());
          inFlight.addAll(ready.messages());
        }
        List<RingAgreement.Outgoing> now = new ArrayList<>(inFlight);
        inFlight.clear();
        java.util.Collections.shuffle(now, random);
        for (RingAgreement.Outgoing o : now) {
          int to = Integer.parseInt(o.to().name().substring(1));
          int from = Integer.parseInt(o.message().from().name().substring(1));
          if (to / 2 == from / 2) {
            nodes[to].receive(o.message());
          }
        }
      }
      for (RingAgreement n : nodes) {
        assertEquals(1, n.epoch(), "seed " + seed);
      }
    }
  }
}
