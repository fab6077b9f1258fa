package dhtnode.membership;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.LongSupplier;

/**
 * This node's view of the cluster: one {@link Member} record per known node, including itself. It
 * owns the SWIM precedence rules, so every record that enters (from a probe, a datagram header or
 * gossip) goes through {@link #apply} and the table only ever moves forward: a higher incarnation
 * wins; at equal incarnation SUSPECT beats ALIVE and DEAD or LEFT beat both. Only this node raises
 * its own incarnation, and only to refute a SUSPECT, DEAD or LEFT claim about itself. DEAD and LEFT
 * records are kept (so stale gossip cannot resurrect them) until {@link #purge}. It also notes, on
 * the clock it is given, when each member entered its current status.
 *
 * <p>Mutable and not thread-safe: it belongs to one actor.
 */
public final class MemberTable {

  /** What applying a record did, so the caller can gossip it and publish the matching event. */
  public enum Outcome {
    /** Older or equal news: nothing changed. */
    IGNORED,
    /** An unknown (or formerly DEAD/LEFT) member is now up. */
    JOINED,
    /**
     * Same status at a higher incarnation, or a down member's record replaced by a newer down one.
     */
    UPDATED,
    /** The member is SUSPECT (newly, or again at a higher incarnation). */
    SUSPECTED,
    /** A SUSPECT refuted the suspicion: ALIVE at a higher incarnation. */
    ALIVE_AGAIN,
    DIED,
    LEFT,
    /** A never-seen member arrived already DEAD or LEFT: recorded, but it never joined here. */
    RECORDED_DOWN,
    /** Someone claimed this node is not ALIVE; it is now ALIVE at a higher incarnation. */
    REFUTED
  }

  public record Change(Outcome outcome, Member previous, Member current) {
    static Change ignored(Member current) {
      return new Change(Outcome.IGNORED, current, current);
    }
  }

  /**
   * What the table keeps about one member, in one place: a lookup by name is one hash probe, which
   * counts at a thousand members (a JOIN reply or push-pull applies the whole list).
   */
  private static final class Entry {
    Member member;

    /** When (on {@link #nanoClock}) the member entered its current status. */
    long statusSince;

    /** Position in {@link #upOthers}, or -1 when this node, DEAD or LEFT. */
    int upIndex = -1;
  }

  private final String selfName;
  private final Map<String, Entry> entries = new HashMap<>();

  /** Protocol period at which a member became DEAD or LEFT, for {@link #purge}. */
  private final Map<String, Long> downSince = new HashMap<>();

  /** The ALIVE and SUSPECT members other than this node, in no order, for sampling. */
  private final List<Entry> upOthers = new ArrayList<>();

  private int upCount;

  /** The member at each host and port, for the seeds' liveness check. */
  private final Map<Address, Entry> byAddress = new HashMap<>();

  private record Address(String host, int port) {}

  /** {@link #all()} as last built, or null once a record changed; shared, so unmodifiable. */
  private List<Member> sorted;

  private final LongSupplier nanoClock;

  public MemberTable(Member self) {
    this(self, System::nanoTime);
  }

  /** {@code nanoClock} is a monotonic clock in nanoseconds, read when a member changes status. */
  public MemberTable(Member self, LongSupplier nanoClock) {
    if (self.status() != MemberStatus.ALIVE) {
      throw new IllegalArgumentException("a node starts ALIVE, was " + self.status());
    }
    this.selfName = self.name();
    this.nanoClock = nanoClock;
    replace(self);
  }

  /** True when {@code incoming} should replace {@code current} under the SWIM precedence rules. */
  public static boolean supersedes(Member incoming, Member current) {
    if (incoming.incarnation() != current.incarnation()) {
      return incoming.incarnation() > current.incarnation();
    }
    return rank(incoming.status()) > rank(current.status());
  }

  private static int rank(MemberStatus status) {
    return switch (status) {
      case ALIVE -> 0;
      case SUSPECT -> 1;
      // DEAD and LEFT rank equal: neither overrides the other at the same incarnation.
      case DEAD, LEFT -> 2;
    };
  }

  public Member self() {
    return entries.get(selfName).member;
  }

  public String selfName() {
    return selfName;
  }

  public Optional<Member> get(String name) {
    return Optional.ofNullable(member(name));
  }

  private Member member(String name) {
    Entry e = entries.get(name);
    return e == null ? null : e.member;
  }

  /**
   * Every remembered member, self and DEAD/LEFT included, ordered by name; unmodifiable. Sorted
   * once per change, not per call: a thousand-member list is sent whole on every join and
   * push-pull.
   */
  public List<Member> all() {
    if (sorted == null) {
      Member[] list = new Member[entries.size()];
      int i = 0;
      for (Entry e : entries.values()) {
        list[i++] = e.member;
      }
      Arrays.sort(list, Comparator.comparing(Member::name));
      sorted = List.of(list);
    }
    return sorted;
  }

  /**
   * When, on this table's clock, {@code name} entered its current status (a new incarnation in the
   * same status does not count), or null when the member is not known.
   */
  public Long statusSinceNanos(String name) {
    Entry e = entries.get(name);
    return e == null ? null : e.statusSince;
  }

  /** ALIVE and SUSPECT members other than this node, ordered by name. */
  public List<Member> upOthers() {
    List<Member> list = new ArrayList<>();
    for (Member m : all()) {
      if (m.isUp() && !m.name().equals(selfName)) {
        list.add(m);
      }
    }
    return list;
  }

  /** True when the member at {@code host:port} is known and ALIVE or SUSPECT. */
  public boolean isUpAt(String host, int port) {
    Entry e = byAddress.get(new Address(host, port));
    return e != null && e.member.isUp();
  }

  /** ALIVE and SUSPECT members including this node: the N of the SWIM formulas. */
  public int upCount() {
    return upCount;
  }

  /**
   * Up to {@code k} distinct ALIVE or SUSPECT members other than this node and {@code excluded}
   * (may be null), chosen uniformly at random. O(k) expected for k well below the member count.
   */
  public List<Member> randomUpOthers(int k, String excluded, Random random) {
    Entry excludedEntry = excluded == null ? null : entries.get(excluded);
    int candidates =
        upOthers.size() - (excludedEntry != null && excludedEntry.upIndex >= 0 ? 1 : 0);
    int want = Math.min(k, candidates);
    List<Member> chosen = new ArrayList<>(Math.max(0, want));
    if (want <= 0) {
      return chosen;
    }
    if (want * 3 >= candidates) {
      // few members: a partial shuffle of a copy
      List<Entry> pool = new ArrayList<>(upOthers);
      pool.remove(excludedEntry);
      for (int i = 0; i < want; i++) {
        int j = i + random.nextInt(pool.size() - i);
        Entry picked = pool.get(j);
        pool.set(j, pool.get(i));
        pool.set(i, picked);
        chosen.add(picked.member);
      }
      return chosen;
    }
    while (chosen.size() < want) {
      Entry picked = upOthers.get(random.nextInt(upOthers.size()));
      // k is small (helpers, gossip targets): a scan of those chosen is cheaper than a set
      if (picked != excludedEntry && !chosen.contains(picked.member)) {
        chosen.add(picked.member);
      }
    }
    return chosen;
  }

  /**
   * Merges one record, heard at protocol period {@code period}. A claim about this node that is not
   * ALIVE and not older than its incarnation is refuted (unless this node has left), so a
   * suspected, declared-dead or restarted node always comes back ALIVE.
   */
  public Change apply(Member incoming, long period) {
    Member current = member(incoming.name());
    if (incoming.name().equals(selfName)) {
      return applyAboutSelf(incoming, current);
    }
    if (current == null) {
      put(incoming, period);
      return new Change(incoming.isUp() ? Outcome.JOINED : Outcome.RECORDED_DOWN, null, incoming);
    }
    if (!supersedes(incoming, current)) {
      return Change.ignored(current);
    }
    put(incoming, period);
    return new Change(outcome(current, incoming), current, incoming);
  }

  private static Outcome outcome(Member previous, Member next) {
    if (!previous.isUp()) {
      return next.isUp() ? Outcome.JOINED : Outcome.UPDATED;
    }
    return switch (next.status()) {
      case ALIVE ->
          previous.status() == MemberStatus.SUSPECT ? Outcome.ALIVE_AGAIN : Outcome.UPDATED;
      case SUSPECT -> Outcome.SUSPECTED;
      case DEAD -> Outcome.DIED;
      case LEFT -> Outcome.LEFT;
    };
  }

  private Change applyAboutSelf(Member incoming, Member self) {
    if (self.status() == MemberStatus.LEFT
        || incoming.status() == MemberStatus.ALIVE
        || incoming.incarnation() < self.incarnation()) {
      // Only this node speaks for its own liveness; ALIVE claims by others add nothing.
      return Change.ignored(self);
    }
    Member refuted = self.withStatus(MemberStatus.ALIVE, incoming.incarnation() + 1);
    replace(refuted);
    return new Change(Outcome.REFUTED, incoming, refuted);
  }

  /** Marks this node LEFT at its current incarnation; from then on it refutes nothing. */
  public Member leave() {
    Member left = self().withStatus(MemberStatus.LEFT, self().incarnation());
    replace(left);
    return left;
  }

  /** This node's own conclusion that an ALIVE member failed its probe. */
  public Change suspect(String name, long period) {
    Member current = member(name);
    if (current == null || current.status() != MemberStatus.ALIVE || name.equals(selfName)) {
      return current == null ? new Change(Outcome.IGNORED, null, null) : Change.ignored(current);
    }
    return apply(current.withStatus(MemberStatus.SUSPECT, current.incarnation()), period);
  }

  /** Confirms a suspicion that was not refuted: DEAD only if still SUSPECT at that incarnation. */
  public Change confirmDead(String name, long suspectedIncarnation, long period) {
    Member current = member(name);
    if (current == null
        || current.status() != MemberStatus.SUSPECT
        || current.incarnation() != suspectedIncarnation) {
      return current == null ? new Change(Outcome.IGNORED, null, null) : Change.ignored(current);
    }
    return apply(current.withStatus(MemberStatus.DEAD, current.incarnation()), period);
  }

  /** Forgets DEAD and LEFT members that have been down since before {@code oldestKeptPeriod}. */
  public List<Member> purge(long oldestKeptPeriod) {
    List<Member> removed = new ArrayList<>();
    downSince
        .entrySet()
        .removeIf(
            e -> {
              if (e.getValue() < oldestKeptPeriod) {
                removed.add(member(e.getKey()));
                remove(e.getKey());
                return true;
              }
              return false;
            });
    return removed;
  }

  private void put(Member m, long period) {
    Member previous = replace(m);
    if (m.isUp()) {
      downSince.remove(m.name());
    } else if (previous == null || previous.isUp()) {
      downSince.put(m.name(), period);
    }
  }

  /**
   * Stores {@code m} and keeps the up count and the up list in step; returns the previous record.
   */
  private Member replace(Member m) {
    Entry e = entries.get(m.name());
    if (e == null) {
      e = new Entry();
      entries.put(m.name(), e);
    }
    Member previous = e.member;
    e.member = m;
    sorted = null;
    if (previous == null || previous.status() != m.status()) {
      e.statusSince = nanoClock.getAsLong();
    }
    if (previous == null
        || previous.clusterPort() != m.clusterPort()
        || !previous.host().equals(m.host())) {
      if (previous != null) {
        byAddress.remove(new Address(previous.host(), previous.clusterPort()), e);
      }
      byAddress.put(new Address(m.host(), m.clusterPort()), e);
    }
    boolean wasUp = previous != null && previous.isUp();
    if (wasUp != m.isUp()) {
      upCount += m.isUp() ? 1 : -1;
      if (!m.name().equals(selfName)) {
        if (m.isUp()) {
          addUp(e);
        } else {
          removeUp(e);
        }
      }
    }
    return previous;
  }

  private void remove(String name) {
    Entry e = entries.remove(name);
    if (e == null) {
      return;
    }
    sorted = null;
    Member previous = e.member;
    byAddress.remove(new Address(previous.host(), previous.clusterPort()), e);
    if (previous.isUp()) {
      upCount--;
      removeUp(e);
    }
  }

  private void addUp(Entry e) {
    e.upIndex = upOthers.size();
    upOthers.add(e);
  }

  private void removeUp(Entry e) {
    int at = e.upIndex;
    if (at < 0) {
      return;
    }
    e.upIndex = -1;
    Entry last = upOthers.remove(upOthers.size() - 1);
    if (at < upOthers.size()) {
      upOthers.set(at, last);
      last.upIndex = at;
    }
  }
}
