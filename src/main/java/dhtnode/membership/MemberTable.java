package dhtnode.membership;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * This node's view of the cluster: one {@link Member} record per known node, including itself.
 * It owns the SWIM precedence rules, so every record that enters (from a probe, a datagram header
 * or gossip) goes through {@link #apply} and the table only ever moves forward: a higher
 * incarnation wins; at equal incarnation SUSPECT beats ALIVE and DEAD or LEFT beat both. Only this
 * node raises its own incarnation, and only to refute a SUSPECT, DEAD or LEFT claim about itself.
 * DEAD and LEFT records are kept (so stale gossip cannot resurrect them) until {@link #purge}.
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
    /** Same status at a higher incarnation, or a down member's record replaced by a newer down one. */
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

  private final String selfName;
  private final Map<String, Member> members = new HashMap<>();
  /** Protocol period at which a member became DEAD or LEFT, for {@link #purge}. */
  private final Map<String, Long> downSince = new HashMap<>();

  public MemberTable(Member self) {
    if (self.status() != MemberStatus.ALIVE) {
      throw new IllegalArgumentException("a node starts ALIVE, was " + self.status());
    }
    this.selfName = self.name();
    members.put(selfName, self);
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
    return members.get(selfName);
  }

  public String selfName() {
    return selfName;
  }

  public Optional<Member> get(String name) {
    return Optional.ofNullable(members.get(name));
  }

  /** Every remembered member, self and DEAD/LEFT included, ordered by name. */
  public List<Member> all() {
    List<Member> list = new ArrayList<>(members.values());
    list.sort(Comparator.comparing(Member::name));
    return list;
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

  /** ALIVE and SUSPECT members including this node: the N of the SWIM formulas. */
  public int upCount() {
    int n = 0;
    for (Member m : members.values()) {
      if (m.isUp()) {
        n++;
      }
    }
    return n;
  }

  /**
   * Merges one record, heard at protocol period {@code period}. A claim about this node that is
   * not ALIVE and not older than its incarnation is refuted (unless this node has left), so a
   * suspected, declared-dead or restarted node always comes back ALIVE.
   */
  public Change apply(Member incoming, long period) {
    Member current = members.get(incoming.name());
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
      case ALIVE -> previous.status() == MemberStatus.SUSPECT ? Outcome.ALIVE_AGAIN : Outcome.UPDATED;
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
    members.put(selfName, refuted);
    return new Change(Outcome.REFUTED, incoming, refuted);
  }

  /** Marks this node LEFT at its current incarnation; from then on it refutes nothing. */
  public Member leave() {
    Member left = self().withStatus(MemberStatus.LEFT, self().incarnation());
    members.put(selfName, left);
    return left;
  }

  /** This node's own conclusion that an ALIVE member failed its probe. */
  public Change suspect(String name, long period) {
    Member current = members.get(name);
    if (current == null || current.status() != MemberStatus.ALIVE || name.equals(selfName)) {
      return current == null ? new Change(Outcome.IGNORED, null, null) : Change.ignored(current);
    }
    return apply(current.withStatus(MemberStatus.SUSPECT, current.incarnation()), period);
  }

  /** Confirms a suspicion that was not refuted: DEAD only if still SUSPECT at that incarnation. */
  public Change confirmDead(String name, long suspectedIncarnation, long period) {
    Member current = members.get(name);
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
    downSince.entrySet().removeIf(e -> {
      if (e.getValue() < oldestKeptPeriod) {
        removed.add(members.remove(e.getKey()));
        return true;
      }
      return false;
    });
    return removed;
  }

  private void put(Member m, long period) {
    Member previous = members.put(m.name(), m);
    if (m.isUp()) {
      downSince.remove(m.name());
    } else if (previous == null || previous.isUp()) {
      downSince.put(m.name(), period);
    }
  }
}
