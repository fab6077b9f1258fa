package dhtnode.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

class MetricsTest {
  /**
   * The node hands the ring gauges a lambda it keeps no other reference to: the gauge must hold it,
   * or after the first collection the scrape says NaN where the epoch should be.
   */
  @Test
  void ringGaugesSurviveAGarbageCollection() {
    Metrics metrics = new Metrics("node1");
    AtomicLong epoch = new AtomicLong(7);
    LongSupplier supplier = epoch::get; // captured: a fresh object only the gauge will hold
    WeakReference<LongSupplier> probe = new WeakReference<>(supplier);
    metrics.ringEpoch(supplier);
    metrics.ringRangesInTransition(() -> epoch.get() - 4);
    supplier = null;
    for (int i = 0; i < 5 && probe.get() != null; i++) {
      System.gc(); // a request to collect, repeated: what must survive it is the point
    }
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("dht_ring_epoch{node=\"node1\"} 7.0"), scrape);
    assertTrue(scrape.contains("dht_ring_ranges_in_transition{node=\"node1\"} 3.0"), scrape);
  }
}
