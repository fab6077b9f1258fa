package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FetchPlanTest {

  @Test
  void aSingleSourceStreamedToTheEndCompletesTheFetch() {
    FetchPlan p = FetchPlan.start(List.of("a", "b"), 1);
    assertEquals("a", p.currentSourceName());
    assertNull(p.cursor());
    p = p.batchApplied("k1", false);
    assertEquals("k1", p.cursor());
    p = p.batchApplied("k2", true);
    assertTrue(p.succeeded());
    assertEquals(List.of("a"), p.completedFrom());
  }

  @Test
  void aFailedSourceIsReplacedByTheNextOneResumingAfterTheLastAppliedKey() {
    FetchPlan p =
        FetchPlan.start(List.of("a", "b"), 1).batchApplied("k1", false).sourceFailed("timeout");
    assertFalse(p.finished());
    assertEquals("b", p.currentSourceName());
    assertEquals("k1", p.cursor());
    p = p.batchApplied("k9", true);
    assertTrue(p.succeeded());
    assertEquals(List.of("b"), p.completedFrom());
  }

  @Test
  void mergingFromTwoSourcesRestartsTheRangeOnTheSecond() {
    FetchPlan p = FetchPlan.start(List.of("a", "b", "c"), 2).batchApplied("k5", true);
    assertFalse(p.finished());
    assertEquals("b", p.currentSourceName());
    assertNull(p.cursor());
    p = p.batchApplied(null, true);
    assertTrue(p.succeeded());
    assertEquals(List.of("a", "b"), p.completedFrom());
  }

  @Test
  void noSourceServesTwoPassesSoEveryKeyIsReadFromDistinctSources() {
    // a dies midway through pass 1, b finishes it; pass 2 may not use a or b again
    FetchPlan p =
        FetchPlan.start(List.of("a", "b", "c"), 2)
            .batchApplied("k1", false)
            .sourceFailed("timeout")
            .batchApplied("k9", true);
    assertEquals("c", p.currentSourceName());
    p = p.batchApplied("k9", true);
    assertTrue(p.succeeded());
    assertEquals(List.of("b", "c"), p.completedFrom());
  }

  @Test
  void runningOutOfSourcesFailsTheFetchAndSaysWhy() {
    FetchPlan p =
        FetchPlan.start(List.of("a", "b"), 2).batchApplied("k", true).sourceFailed("timeout");
    assertTrue(p.finished());
    assertFalse(p.succeeded());
    assertEquals(List.of("a"), p.completedFrom());
    assertTrue(p.failure().contains("b failed (timeout)"), p.failure());
    assertThrows(
        IllegalStateException.class,
        () -> FetchPlan.start(List.of("a"), 1).sourceFailed("x").sourceFailed("y"));
  }

  @Test
  void mergeFromMustFitTheSourcesAndNamesMustBeDistinct() {
    assertThrows(IllegalArgumentException.class, () -> FetchPlan.start(List.of("a"), 2));
    assertThrows(IllegalArgumentException.class, () -> FetchPlan.start(List.of("a"), 0));
    assertThrows(IllegalArgumentException.class, () -> FetchPlan.start(List.of("a", "a"), 1));
  }
}
