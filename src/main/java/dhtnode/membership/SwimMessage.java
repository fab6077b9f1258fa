package dhtnode.membership;

import java.util.List;

/**
 * The SWIM datagrams as values. Every message names its sender by the sender's own, current
 * record ({@code from}): the freshest word on the sender's liveness, which also lets a receiver
 * learn a sender it had forgotten. {@code gossip} carries piggybacked membership updates.
 */
public sealed interface SwimMessage {
  Member from();

  long seq();

  List<Member> gossip();

  /** Direct probe of the member named {@code target}; answered by an {@link Ack}. */
  record Ping(Member from, long seq, String target, List<Member> gossip) implements SwimMessage {}

  /** Asks the receiver to probe {@code target} and relay its ACK back with this {@code seq}. */
  record PingReq(Member from, long seq, Member target, List<Member> gossip) implements SwimMessage {}

  /** {@code subject} is alive: it answered the probe numbered {@code seq} (directly or relayed). */
  record Ack(Member from, long seq, String subject, List<Member> gossip) implements SwimMessage {}

  /** {@code from} asks to join; the receiver answers with a {@link JoinReply}. */
  record Join(Member from, long seq, List<Member> gossip) implements SwimMessage {}

  /** The full member list of the receiver of a {@link Join}, in {@code gossip}. */
  record JoinReply(Member from, long seq, List<Member> gossip) implements SwimMessage {}
}
