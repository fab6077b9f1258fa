package dhtnode.membership;

import dhtnode.common.CborSerializable;

/**
 * What the cluster knows of one node: its identity and addresses, its SWIM status and the
 * incarnation that status was asserted at. Immutable; a newer record replaces an older one by the
 * precedence rules of the member table.
 */
public record Member(
    String name, String host, int clusterPort, int httpPort, MemberStatus status, long incarnation)
    implements CborSerializable {

  public Member withStatus(MemberStatus newStatus, long newIncarnation) {
    return new Member(name, host, clusterPort, httpPort, newStatus, newIncarnation);
  }

  public boolean isUp() {
    return status == MemberStatus.ALIVE || status == MemberStatus.SUSPECT;
  }
}
