package dhtnode.membership;

/**
 * Membership changes published to subscribers (the ring, the stabilizer). {@code by} names the node
 * that concluded the change (this node, or the gossip source), {@code reason} says why, so the one
 * INFO line per event tells the story.
 */
public sealed interface MemberEvent {
  Member member();

  record MemberJoined(Member member, String by) implements MemberEvent {}

  record MemberSuspected(Member member, String by, String reason) implements MemberEvent {}

  /** A suspect refuted the suspicion (higher incarnation) and is alive again. */
  record MemberAlive(Member member, String by) implements MemberEvent {}

  record MemberDied(Member member, String by, String reason) implements MemberEvent {}

  record MemberLeft(Member member, String by) implements MemberEvent {}

  /**
   * This node heard it was {@code claimed} (SUSPECT, DEAD or LEFT) and refuted it with a higher
   * incarnation. After DEAD or LEFT the rest of the cluster had excluded it, so it may have missed
   * writes meanwhile.
   */
  record SelfRefuted(Member member, String by, MemberStatus claimed) implements MemberEvent {}

  /**
   * This node was unresponsive (paused, stalled) for longer than the suspicion timeout, so the
   * others have probably declared it DEAD and sent writes elsewhere, whether or not it ever hears
   * the claim: nobody probes a member it holds dead.
   */
  record SelfAway(Member member, long awayMillis) implements MemberEvent {}
}
