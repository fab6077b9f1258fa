package dhtnode.membership;

/** SWIM member states, as {@code /cluster/members} shows them. */
public enum MemberStatus {
  ALIVE,
  SUSPECT,
  DEAD,
  LEFT
}
