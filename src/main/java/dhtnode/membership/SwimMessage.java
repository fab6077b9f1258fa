package dhtnode.membership;

import java.util.List;
import java.util.Map;

/**
 * The SWIM datagrams as values. Every message names its sender by the sender's own, current record
 * ({@code from}): the freshest word on the sender's liveness, which also lets a receiver learn a
 * sender it had forgotten. {@code gossip} carries piggybacked membership updates, and {@code
 * accusers} names, for SUSPECT records in it, the member whose failed probe raised that suspicion
 * (Lifeguard's dogpile suspicion counts distinct accusers). Accusers travel only in wire version 2;
 * a version-1 datagram has none.
 */
public sealed interface SwimMessage {
  Member from();

  long seq();

  List<Member> gossip();

  /** Subject name to accuser name, for SUSPECT records in {@link #gossip()}; may be empty. */
  Map<String, String> accusers();

  /** Direct probe of the member named {@code target}; answered by an {@link Ack}. */
  record Ping(
      Member from, long seq, String target, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {
    public Ping(Member from, long seq, String target, List<Member> gossip) {
      this(from, seq, target, gossip, Map.of());
    }
  }

  /** Asks the receiver to probe {@code target} and relay its ACK back with this {@code seq}. */
  record PingReq(
      Member from, long seq, Member target, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {
    public PingReq(Member from, long seq, Member target, List<Member> gossip) {
      this(from, seq, target, gossip, Map.of());
    }
  }

  /** {@code subject} is alive: it answered the probe numbered {@code seq} (directly or relayed). */
  record Ack(
      Member from, long seq, String subject, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {
    public Ack(Member from, long seq, String subject, List<Member> gossip) {
      this(from, seq, subject, gossip, Map.of());
    }
  }

  /**
   * A helper of PING_REQ {@code seq} got no ACK from {@code subject} in time (Lifeguard): the
   * requester learns its helper is alive and reachable, so the missing ACK says nothing about its
   * own health. Wire version 2.
   */
  record Nack(
      Member from, long seq, String subject, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {}

  /** Gossip only, sent every gossip interval to a few members; no answer. Wire version 2. */
  record Gossip(Member from, long seq, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {}

  /**
   * {@code from}, a node of the cluster named {@code cluster}, asks to join; a receiver of that
   * cluster answers with {@link JoinReply} parts, one of another cluster with {@link JoinRefused}.
   * The name travels in wire version 3; a JOIN of versions 1 and 2 is of the default cluster.
   */
  record Join(
      Member from, long seq, String cluster, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {
    public Join(Member from, long seq, List<Member> gossip, Map<String, String> accusers) {
      this(from, seq, LocalNode.DEFAULT_CLUSTER, gossip, accusers);
    }

    public Join(Member from, long seq, List<Member> gossip) {
      this(from, seq, gossip, Map.of());
    }
  }

  /**
   * The answer to a {@link Join} (same {@code seq}) from a node of another cluster: {@code from}
   * belongs to {@code cluster} and will not take the joiner in. Carries no gossip, so neither side
   * learns the other's members. Wire version 3.
   */
  record JoinRefused(Member from, long seq, String cluster) implements SwimMessage {
    @Override
    public List<Member> gossip() {
      return List.of();
    }

    @Override
    public Map<String, String> accusers() {
      return Map.of();
    }
  }

  /**
   * One part of the member list of the receiver of a {@link Join}, in {@code gossip}: the list is
   * split into as many parts as it takes to keep each under max-datagram-size.
   */
  record JoinReply(Member from, long seq, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {
    public JoinReply(Member from, long seq, List<Member> gossip) {
      this(from, seq, gossip, Map.of());
    }
  }

  /**
   * Push-pull anti-entropy: one part of the sender's member list. A {@code reply == false} sync is
   * answered with the receiver's own list, in {@code reply == true} parts. Wire version 2.
   */
  record Sync(
      Member from, long seq, boolean reply, List<Member> gossip, Map<String, String> accusers)
      implements SwimMessage {}
}
