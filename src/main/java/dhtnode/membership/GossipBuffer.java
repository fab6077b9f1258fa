package dhtnode.membership;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The membership updates this node still has to piggyback. It holds at most one update per member
 * (a newer one replaces the older and starts counting again), hands out the least-sent and then
 * newest updates first within a byte budget, and drops an update once it has been sent the
 * retransmit limit number of times ({@link #retransmitLimit}).
 *
 * <p>Mutable and not thread-safe: it belongs to one actor.
 */
public final class GossipBuffer {

  private static final class Entry {
    final Member update;
    final long sequence;
    int sent;

    Entry(Member update, long sequence) {
      this.update = update;
      this.sequence = sequence;
    }
  }

  private static final Comparator<Entry> PRIORITY =
      Comparator.<Entry>comparingInt(e -> e.sent).thenComparing(e -> -e.sequence);

  private final Map<String, Entry> entries = new HashMap<>();
  private long nextSequence;

  /**
   * max(1, ceil(lambda * log10(n + 1))): SWIM's lambda * log(n) sends reach every member with high
   * probability; the +1 and the floor of 1 keep a two-node cluster gossiping at all.
   */
  public static int retransmitLimit(double lambda, int clusterSize) {
    return Math.max(1, (int) Math.ceil(lambda * Math.log10(Math.max(0, clusterSize) + 1)));
  }

  /** Queues an update to gossip, replacing any older update about the same member. */
  public void add(Member update) {
    entries.put(update.name(), new Entry(update, nextSequence++));
  }

  public int size() {
    return entries.size();
  }

  /**
   * Takes updates to piggyback on one datagram: least-sent first, newest first among equals, as
   * many as fit in {@code budgetBytes} (a large update that does not fit is skipped in favour of a
   * smaller one). Each taken update counts one send; updates that reached {@code limit} sends are
   * removed.
   */
  public List<Member> take(int budgetBytes, int limit, ToIntFunction<Member> sizeOf) {
    entries.values().removeIf(e -> e.sent >= limit);
    List<Entry> ordered = new ArrayList<>(entries.values());
    ordered.sort(PRIORITY);
    List<Member> taken = new ArrayList<>();
    int left = budgetBytes;
    for (Entry e : ordered) {
      int size = sizeOf.applyAsInt(e.update);
      if (size <= left) {
        taken.add(e.update);
        left -= size;
        e.sent++;
      }
    }
    entries.values().removeIf(e -> e.sent >= limit);
    return taken;
  }
}
