package dhtnode.membership;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToIntFunction;

/**
 * The membership updates this node still has to piggyback. It holds at most one update per member
 * (a newer one replaces the older and starts counting again), hands out the least-sent and then
 * newest updates first within a byte budget, and drops an update once it has been sent the
 * retransmit limit number of times ({@link #retransmitLimit}). Updates are kept in buckets by times
 * sent, so a take costs about the number of updates it takes, not the number queued.
 *
 * <p>Mutable and not thread-safe: it belongs to one actor.
 */
public final class GossipBuffer {

  private static final class Entry {
    final Member update;
    final String accuser;
    final long sequence;
    int sent;

    /** Encoded size, computed on first use (the size function is the same for every take). */
    int size = -1;

    Entry(Member update, String accuser, long sequence) {
      this.update = update;
      this.accuser = accuser;
      this.sequence = sequence;
    }
  }

  /** One update taken for a datagram, with the accuser of a SUSPECT record (or null). */
  public record Item(Member update, String accuser) {}

  /**
   * How many updates that do not fit in the room left are passed over before a take gives up:
   * bounds the work per datagram when thousands of updates are queued.
   */
  private static final int MAX_MISFITS = 16;

  /** The entry per member, to replace it. */
  private final Map<String, Entry> entries = new HashMap<>();

  /** Entries by times sent, each bucket newest first (by sequence, descending). */
  private final List<TreeMap<Long, Entry>> bySent = new ArrayList<>();

  private long nextSequence;

  /**
   * lambda * ceil(log10(n + 1)), at least 1: SWIM's lambda * log(n) sends reach every member with
   * high probability (the same rounding as memberlist; the +1 keeps a two-node cluster gossiping).
   */
  public static int retransmitLimit(double lambda, int clusterSize) {
    return Math.max(
        1, (int) Math.ceil(lambda * Math.ceil(Math.log10(Math.max(0, clusterSize) + 1))));
  }

  /** Queues an update to gossip, replacing any older update about the same member. */
  public void add(Member update) {
    add(update, null);
  }

  /** Queues an update with the accuser of a SUSPECT record (null when unknown or not SUSPECT). */
  public void add(Member update, String accuser) {
    Entry entry = new Entry(update, accuser, nextSequence++);
    Entry old = entries.put(update.name(), entry);
    if (old != null) {
      bucket(old.sent).remove(old.sequence);
    }
    bucket(0).put(entry.sequence, entry);
  }

  private TreeMap<Long, Entry> bucket(int sent) {
    while (bySent.size() <= sent) {
      bySent.add(new TreeMap<>(Comparator.reverseOrder()));
    }
    return bySent.get(sent);
  }

  private void dropSentAtLeast(int limit) {
    for (int sent = limit; sent < bySent.size(); sent++) {
      for (Entry e : bySent.get(sent).values()) {
        entries.remove(e.update.name());
      }
      bySent.get(sent).clear();
    }
  }

  /** True when an update about {@code name} is still queued. */
  public boolean contains(String name) {
    return entries.containsKey(name);
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
    return takeItems(budgetBytes, limit, item -> sizeOf.applyAsInt(item.update())).stream()
        .map(Item::update)
        .toList();
  }

  /** {@link #take}, with each update's accuser. */
  public List<Item> takeItems(int budgetBytes, int limit, ToIntFunction<Item> sizeOf) {
    if (entries.isEmpty()) {
      return List.of(); // the usual case in a quiet cluster: every datagram asks
    }
    dropSentAtLeast(limit);
    List<Entry> taken = new ArrayList<>();
    int left = budgetBytes;
    int misfits = 0;
    scan:
    for (int sent = 0; sent < Math.min(limit, bySent.size()); sent++) {
      for (Entry e : bySent.get(sent).values()) {
        if (e.size < 0) {
          e.size = sizeOf.applyAsInt(new Item(e.update, e.accuser));
        }
        int size = e.size;
        if (size <= left) {
          taken.add(e);
          left -= size;
        } else if (++misfits > MAX_MISFITS) {
          break scan;
        }
      }
    }
    List<Item> members = new ArrayList<>(taken.size());
    for (Entry e : taken) {
      bucket(e.sent).remove(e.sequence);
      e.sent++;
      members.add(new Item(e.update, e.accuser));
      if (e.sent >= limit) {
        entries.remove(e.update.name());
      } else {
        bucket(e.sent).put(e.sequence, e);
      }
    }
    return members;
  }
}
