package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dhtnode.storage.StoredEntry;
import dhtnode.storage.Version;
import dhtnode.storage.Versioned;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchesTest {

  private static StoredEntry sized(String key, int valueBytes) {
    return new StoredEntry(key, 0, Versioned.of(new byte[valueBytes], "b", new Version(1, "w")));
  }

  @Test
  void aBatchStopsAtTheCountOrTheByteBudgetWhicheverComesFirst() {
    List<StoredEntry> entries =
        List.of(sized("a", 99), sized("b", 99), sized("c", 99), sized("d", 99));
    assertEquals(100, Batches.sizeOf(entries.get(0)));
    assertEquals(2, Batches.nextBatchSize(entries, 0, 2, 10_000));
    assertEquals(3, Batches.nextBatchSize(entries, 0, 10, 300));
    assertEquals(2, Batches.nextBatchSize(entries, 1, 10, 299));
    assertEquals(1, Batches.nextBatchSize(entries, 3, 10, 300));
    assertEquals(0, Batches.nextBatchSize(entries, 4, 10, 300));
  }

  @Test
  void anEntryLargerThanTheBudgetStillMakesABatchOfOne() {
    List<StoredEntry> entries = List.of(sized("big", 5000), sized("small", 1));
    assertEquals(1, Batches.nextBatchSize(entries, 0, 10, 1024));
    assertEquals(1, Batches.nextBatchSize(entries, 1, 10, 1024));
  }
}
