package dhtnode.ring;

import dhtnode.common.CborSerializable;

/**
 * A member as an agreed ring configuration names it: its name (which places its tokens) and the
 * addresses to reach it, so a node catching up can talk to members it has not heard of through SWIM
 * yet.
 */
public record RingMember(String name, String host, int clusterPort, int httpPort)
    implements CborSerializable {

  /** {@code host:clusterPort}, as seeds are written. */
  public String clusterAddress() {
    return host + ":" + clusterPort;
  }
}
