package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LaterEpochsTest {
  @Test
  void eachLaterEpochIsNewOnceAndEarlierOnesNever() {
    LaterEpochs seen = new LaterEpochs();
    assertTrue(seen.isNew(3));
    assertFalse(seen.isNew(3), "a burst fenced by the same epoch is handed on once");
    assertFalse(seen.isNew(2), "an earlier epoch after a later one is old news");
    assertTrue(seen.isNew(5));
  }
}
