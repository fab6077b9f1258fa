package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Nemesis: a 2|2 split of four node processes, each in its own network namespace, held well past a
 * shortened removal delay. Neither half is a majority of the ring, so neither may commit an epoch
 * dropping the other, during the split or after it heals; every key still has a quorum (two of its
 * three replicas) on exactly one side. Checked: the epochs, the whole history for linearizability,
 * and every acknowledged write readable at quorum after the heal.
 */
class SplitBrainIT {
  static final List<Integer> ALL = List.of(1, 2, 3, 4);

  @Test
  void aTwoTwoSplitPastTheRemovalDelayCommitsNoEpochOnEitherSideAndLosesNothing() throws Exception {
    NetnsCluster.assumeAvailable();
    // removal delay shortened from 30 s so that both halves want to drop the other within the split
    try (NetnsCluster cluster =
        new NetnsCluster("SplitBrainIT", 4, "dht.ring.removal-delay = 5s")) {
      cluster.start(ALL);
      Set<Integer> left = Set.of(1, 2);
      Set<Integer> right = Set.of(3, 4);
      List<String> keys = Nemesis.keysWhere(cluster, 1, "s", 8, r -> true);
      RegisterClients clients = new RegisterClients(cluster, keys, ALL, 4, true);
      Map<Integer, Long> epochs;
      long split;
      long healed;
      long healToServing;
      List<Linearizability.Op> history;
      try {
        TimeUnit.SECONDS.sleep(2); // a fixed stretch of load before the split
        epochs = Nemesis.epochs(cluster, ALL);
        cluster.partition(left, right);
        split = System.nanoTime();
        // held a fixed 12 s: SWIM declares the other half DEAD after about 3 s, so each half's
        // leader sees it DEAD for longer than the 5 s removal delay and proposes dropping it
        TimeUnit.SECONDS.sleep(12);
        Map<Integer, Long> during = Nemesis.epochs(cluster, ALL);
        assertEquals(epochs, during, "no epoch committed by either half during the 2|2 split");
        healed = System.nanoTime();
        cluster.heal();
        healToServing = Nemesis.awaitServing(cluster, ALL, keys, 60);
        // a fixed stretch of load after the heal, long enough for a proposal made during the
        // split and retried afterwards to commit if it were going to
        TimeUnit.SECONDS.sleep(5);
      } finally {
        history = clients.stop();
      }
      List<RegisterClients.Request> requests = clients.requests();
      long[] l = Nemesis.served(requests, left, keys, split, healed);
      long[] r = Nemesis.served(requests, right, keys, split, healed);
      System.out.printf(
          "[nemesis] 2|2 split for 12 s: {1,2} served %d of %d, {3,4} served %d of %d; heal to every"
              + " node serving: %d ms; epochs %s%n",
          l[0], l[1], r[0], r[1], healToServing, epochs);

      // safety first, so that a failure of the epoch rule below still says whether data was lost
      Nemesis.finalReads(cluster, ALL, keys, history);
      Nemesis.assertLinearizable(history, "across a 2|2 split and heal");
      Map<String, String> acked = clients.acknowledgedUnique();
      assertTrue(acked.size() > 10, "enough unique writes acknowledged: " + acked.size());
      assertEquals(
          Map.of(),
          Nemesis.lost(cluster, 3, acked),
          "acknowledged writes not readable at quorum after the heal");

      Map<Integer, Long> after = Nemesis.epochs(cluster, ALL);
      assertEquals(
          epochs,
          after,
          "no epoch may be committed because of a 2|2 split, during it or after it healed;"
              + " epochs went from "
              + epochs
              + " to "
              + after
              + " (a removal proposed during the split and still being"
              + " retried committed once the other half was reachable again; see the 'ring epoch' lines in"
              + " target/it-logs/SplitBrainIT); node1's ring now "
              + Nemesis.ring(cluster, 1).path("members"));
      assertEquals(
          4, Nemesis.ring(cluster, 1).path("members").size(), "every node still in the ring");
    }
  }
}
