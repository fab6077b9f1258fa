package dhtnode.stabilization;

import dhtnode.storage.StoredEntry;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How entries are cut into messages between nodes: by count and by bytes, so no batch outgrows a
 * remoting frame whatever the value sizes. A batch always holds at least one entry, so a stream
 * makes progress even past a value larger than the byte budget.
 */
public final class Batches {
  private Batches() {}

  /** What an entry costs on the wire, roughly: its key and value bytes. */
  public static long sizeOf(StoredEntry e) {
    return e.key().getBytes(StandardCharsets.UTF_8).length + e.value().value().length;
  }

  /**
   * How many entries from {@code from} on make the next batch: at most {@code maxCount}, and no
   * more than fit in {@code maxBytes}, but at least one when any remain.
   */
  public static int nextBatchSize(
      List<StoredEntry> entries, int from, int maxCount, long maxBytes) {
    int n = 0;
    long bytes = 0;
    for (int i = from; i < entries.size() && n < maxCount; i++) {
      bytes += sizeOf(entries.get(i));
      if (n > 0 && bytes > maxBytes) {
        break;
      }
      n++;
    }
    return n;
  }
}
