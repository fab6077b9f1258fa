package dhtnode.ring;

import dhtnode.membership.Member;
import dhtnode.membership.MemberStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What this node proposes as the next ring epoch, from SWIM's view, the committed configuration and
 * the fill reports: plain data in, at most one configuration out, one transition at a time.
 *
 * <ul>
 *   <li>Joins: members SWIM sees ALIVE that are in no set of the configuration (and not retired)
 *       start a transition to {@code next = current + joiners}, all joiners known at that moment.
 *   <li>Removals: members DEAD or LEFT for the removal delay without a break ({@code downSince})
 *       are dropped from {@code next}. A member back before the delay changes nothing; one back
 *       ALIVE while its removal is still filling is put back into {@code next}.
 *   <li>Reads move: when every node that gains a range in the transition has reported FillDone for
 *       this epoch, the same transition with reads on {@code next} is proposed (writes still go to
 *       both sets).
 *   <li>Finish: once enough old replicas have seen that epoch that no read quorum of an older one
 *       can form ({@link RingTransition#barrierMet}), the stable {@code current = next} is
 *       proposed. Only then do writes stop reaching the old replicas.
 *   <li>Retarget: while gainers fill, a target that must change (a joiner died, another joined)
 *       gives a new transition with the same {@code current}: reads stay on it, and old replicas
 *       keep their data until a stable epoch, so gainers simply fill again for the new epoch. Once
 *       reads moved, the transition completes first.
 *   <li>Operator requests held by this node come first: a force-removal drops a member from both
 *       sets (accepting that ranges it alone held may be lost), a decommission drops this node from
 *       {@code next}. Both retire the member, so SWIM seeing it still running does not add it back;
 *       a process started later does rejoin (its incarnation is its start time).
 * </ul>
 *
 * Only the leader proposes joins, removals and finishes: the lowest-named member of {@code current}
 * that this node sees ALIVE. Two nodes that each believe they lead may both propose; the agreement
 * keeps that safe and the backoff makes it rare.
 */
public final class RingPolicy {

  /**
   * Everything a decision depends on.
   *
   * @param config the latest committed configuration (null: this node is in no ring yet)
   * @param swim SWIM's latest record of each member it knows, by name
   * @param downSince when (on {@code clockMillis}'s clock) each member SWIM holds DEAD or LEFT was
   *     first seen so, without a break since
   * @param gainers nodes that gain a range in this epoch's transition ({@link #gainers})
   * @param fillsDone nodes that reported FillDone for this epoch: once reads moved, every node
   *     reports it as soon as it is at the epoch
   * @param barrierMet whether enough old replicas reported this epoch that no read quorum can form
   *     at an older one (only asked once reads moved)
   * @param forceRemove members an operator asked this node to force out
   * @param decommission whether an operator asked this node to leave the ring
   * @param clockMillis a monotonic clock, the one {@code downSince} is read on
   * @param wallMillis wall-clock time, recorded with each retirement
   */
  public record Inputs(
      RingConfig config,
      Map<String, Member> swim,
      Map<String, Long> downSince,
      Set<String> gainers,
      Set<String> fillsDone,
      boolean barrierMet,
      Set<String> forceRemove,
      boolean decommission,
      long clockMillis,
      long wallMillis) {}

  private final String self;
  private final long removalDelayMillis;

  /**
   * @param self this node's name
   * @param removalDelayMillis how long a member must be DEAD or LEFT before its removal is proposed
   */
  public RingPolicy(String self, long removalDelayMillis) {
    this.self = self;
    this.removalDelayMillis = removalDelayMillis;
  }

  /** The configuration to propose next, if any. */
  public Optional<RingConfig> decide(Inputs in) {
    RingConfig config = in.config();
    if (config == null) {
      return Optional.empty();
    }
    Set<String> forced = new TreeSet<>(in.forceRemove());
    forced.retainAll(config.memberNames());
    forced.remove(self);
    if (!forced.isEmpty()) {
      List<RingMember> current = without(config.current(), forced);
      List<RingMember> next = without(config.next(), forced);
      if (!current.isEmpty() && !next.isEmpty()) {
        return Optional.of(
            RingConfig.of(
                current,
                next,
                retire(config, forced, in.wallMillis()),
                "force-removed " + forced,
                self));
      }
    }
    if (in.decommission()
        && !config.readsMoved()
        && config.nextNames().contains(self)
        && config.nextNames().size() > 1) {
      return Optional.of(
          RingConfig.of(
              config.current(),
              without(config.next(), Set.of(self)),
              retire(config, Set.of(self), in.wallMillis()),
              "decommissioning " + self,
              self));
    }
    if (!self.equals(leader(config, in.swim()))) {
      return Optional.empty();
    }
    if (config.readsMoved()) {
      // reads are on the new sets already: complete the transition before any other change
      return in.barrierMet()
          ? Optional.of(RingConfig.stable(config.next(), config.retired(), "finished", self))
          : Optional.empty();
    }
    List<RingMember> joiners = joiners(config, in.swim());
    Set<String> departed = new TreeSet<>();
    in.downSince()
        .forEach(
            (name, since) -> {
              if (in.clockMillis() - since >= removalDelayMillis
                  && config.nextNames().contains(name)) {
                departed.add(name);
              }
            });
    departed.remove(self);
    List<RingMember> target = new ArrayList<>(without(config.next(), departed));
    target.addAll(joiners);
    target.addAll(returners(config, in.swim()));
    if (target.isEmpty()) {
      return Optional.empty(); // never propose a ring with nobody in it
    }
    Set<String> targetNames = names(target);
    if (!targetNames.equals(config.nextNames())) {
      String change = describe(joiners, departed);
      if (config.inTransition()) {
        change = "retargeted: " + change;
      }
      if (targetNames.equals(config.currentNames())) {
        return Optional.of(RingConfig.stable(config.current(), config.retired(), change, self));
      }
      return Optional.of(RingConfig.of(config.current(), target, config.retired(), change, self));
    }
    if (config.inTransition() && in.fillsDone().containsAll(in.gainers())) {
      return Optional.of(config.withReadsMoved(self));
    }
    return Optional.empty();
  }

  /** The lowest-named member of {@code current} this node sees ALIVE (itself always), or null. */
  public String leader(RingConfig config, Map<String, Member> swim) {
    for (RingMember m : config.current()) {
      Member seen = swim.get(m.name());
      if (m.name().equals(self) || (seen != null && seen.status() == MemberStatus.ALIVE)) {
        return m.name();
      }
    }
    return null;
  }

  /**
   * Members of {@code current} that a transition is removing but SWIM sees ALIVE again (a healed
   * partition, a node back after the delay), unless retired by an operator: the transition is
   * retargeted to keep them, so they move no data, instead of finishing without them and taking
   * them back in another transition.
   */
  static List<RingMember> returners(RingConfig config, Map<String, Member> swim) {
    List<RingMember> out = new ArrayList<>();
    for (RingMember m : config.current()) {
      Member seen = swim.get(m.name());
      if (seen != null
          && seen.status() == MemberStatus.ALIVE
          && !config.nextNames().contains(m.name())
          && !config.retired().containsKey(m.name())) {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * Members SWIM sees ALIVE in no set of {@code config}, unless retired and not restarted since.
   */
  static List<RingMember> joiners(RingConfig config, Map<String, Member> swim) {
    List<RingMember> out = new ArrayList<>();
    for (Member m : swim.values()) {
      if (m.status() != MemberStatus.ALIVE || config.contains(m.name())) {
        continue;
      }
      Long retiredAt = config.retired().get(m.name());
      if (retiredAt != null && m.incarnation() <= retiredAt) {
        continue;
      }
      out.add(new RingMember(m.name(), m.host(), m.clusterPort(), m.httpPort()));
    }
    return out;
  }

  /**
   * Nodes that gain a range in the transition from {@code current} to {@code next}: those in some
   * token's preference list in {@code next} but not in {@code current}. They fill it before the
   * transition may finish.
   */
  public static Set<String> gainers(HashRing current, HashRing next) {
    Set<String> out = new TreeSet<>();
    if (current.equals(next)) {
      return out;
    }
    for (String member : next.members()) {
      if (!RangeDiff.of(member, current, next).gained().isEmpty()) {
        out.add(member);
      }
    }
    return out;
  }

  private static Map<String, Long> retire(RingConfig config, Set<String> names, long nowMillis) {
    Map<String, Long> retired = new TreeMap<>(config.retired());
    for (String name : names) {
      retired.put(name, nowMillis);
    }
    return retired;
  }

  private static List<RingMember> without(Collection<RingMember> members, Set<String> names) {
    List<RingMember> out = new ArrayList<>();
    for (RingMember m : members) {
      if (!names.contains(m.name())) {
        out.add(m);
      }
    }
    return out;
  }

  private static Set<String> names(Collection<RingMember> members) {
    Set<String> out = new TreeSet<>();
    members.forEach(m -> out.add(m.name()));
    return out;
  }

  private static String describe(List<RingMember> joiners, Set<String> departed) {
    List<String> parts = new ArrayList<>();
    if (!joiners.isEmpty()) {
      parts.add("joined " + names(joiners));
    }
    if (!departed.isEmpty()) {
      parts.add("removed " + departed);
    }
    return String.join(", ", parts);
  }
}
