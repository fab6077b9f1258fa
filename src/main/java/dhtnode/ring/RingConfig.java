package dhtnode.ring;

import dhtnode.common.CborSerializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The value agreed for one ring epoch: the {@code current} member set and the {@code next} set a
 * transition moves to; equal when the epoch is stable. Reads use {@code current} until {@code
 * readsMoved} (the second step of a transition, once every gainer has filled), then {@code next};
 * writes go to both while they differ. {@code retired} names members that were decommissioned or
 * force-removed, each with the wall-clock millis of that decision: such a member is not admitted
 * again by a join until SWIM shows it with an incarnation above that time, i.e. a process started
 * after it was retired. {@code change} and {@code proposer} say what the epoch did and who proposed
 * it, for the one log line per epoch.
 *
 * <p>Member lists are kept sorted by name, so equal configurations are equal records.
 */
public record RingConfig(
    List<RingMember> current,
    List<RingMember> next,
    Map<String, Long> retired,
    String change,
    String proposer,
    boolean readsMoved)
    implements CborSerializable {

  private static final Comparator<RingMember> BY_NAME = Comparator.comparing(RingMember::name);

  public RingConfig {
    current = sorted(current);
    next = sorted(next);
    retired = retired == null ? Map.of() : Map.copyOf(new TreeMap<>(retired));
    change = change == null ? "" : change;
    proposer = proposer == null ? "" : proposer;
    readsMoved = readsMoved && !current.equals(next);
  }

  /** A configuration whose reads are on {@code current} (stable, or filling). */
  public RingConfig(
      List<RingMember> current,
      List<RingMember> next,
      Map<String, Long> retired,
      String change,
      String proposer) {
    this(current, next, retired, change, proposer, false);
  }

  /** The second step of this transition: the same sets, reads on {@code next}. */
  public RingConfig withReadsMoved(String proposer) {
    return new RingConfig(current, next, retired, "reads moved", proposer, true);
  }

  private static List<RingMember> sorted(Collection<RingMember> members) {
    Map<String, RingMember> byName = new TreeMap<>();
    for (RingMember m : members == null ? List.<RingMember>of() : members) {
      byName.put(m.name(), m);
    }
    return List.copyOf(byName.values());
  }

  /** The configuration a new cluster starts with: only its founder, stable. */
  public static RingConfig founding(RingMember self) {
    return new RingConfig(
        List.of(self), List.of(self), Map.of(), "founded by " + self.name(), self.name());
  }

  /** A stable configuration of {@code members}. */
  public static RingConfig stable(
      Collection<RingMember> members, Map<String, Long> retired, String change, String proposer) {
    return new RingConfig(List.copyOf(members), List.copyOf(members), retired, change, proposer);
  }

  public boolean inTransition() {
    return !current.equals(next);
  }

  public Set<String> currentNames() {
    return names(current);
  }

  public Set<String> nextNames() {
    return names(next);
  }

  /** Names in current or next: the acceptors of the epoch after this one. */
  public Set<String> memberNames() {
    Set<String> all = names(current);
    all.addAll(names(next));
    return all;
  }

  /**
   * Members in current or next, sorted by name (the next set's address wins for a member in both).
   */
  public List<RingMember> allMembers() {
    Map<String, RingMember> byName = new TreeMap<>();
    current.forEach(m -> byName.put(m.name(), m));
    next.forEach(m -> byName.put(m.name(), m));
    return List.copyOf(byName.values());
  }

  public boolean contains(String name) {
    return indexOf(current, name) >= 0 || indexOf(next, name) >= 0;
  }

  /** Strict majority of {@link #memberNames()}: votes needed to decide the next epoch. */
  public int quorum() {
    int union = current.size();
    for (RingMember m : next) {
      if (indexOf(current, m.name()) < 0) {
        union++;
      }
    }
    return union / 2 + 1;
  }

  // member lists are a handful of entries: a scan allocates nothing, unlike a set per call
  private static int indexOf(List<RingMember> members, String name) {
    for (int i = 0; i < members.size(); i++) {
      if (members.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether the same member sets and retirements: what the epoch decides, not how it is described.
   */
  public boolean sameSets(RingConfig other) {
    return current.equals(other.current)
        && next.equals(other.next)
        && retired.equals(other.retired)
        && readsMoved == other.readsMoved;
  }

  /** A copy with other member sets, retirements, description and proposer. */
  public static RingConfig of(
      Collection<RingMember> current,
      Collection<RingMember> next,
      Map<String, Long> retired,
      String change,
      String proposer) {
    return new RingConfig(
        new ArrayList<>(current),
        new ArrayList<>(next),
        new LinkedHashMap<>(retired),
        change,
        proposer);
  }

  private static Set<String> names(List<RingMember> members) {
    Set<String> out = new TreeSet<>();
    members.forEach(m -> out.add(m.name()));
    return out;
  }
}
