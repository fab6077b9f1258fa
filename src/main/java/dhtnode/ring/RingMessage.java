package dhtnode.ring;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dhtnode.common.CborSerializable;
import java.util.Set;

/**
 * What ring agreements of different nodes send each other (see {@link RingAgreement} and
 * docs/ring.md). Every message names its sender with its addresses, so the answer can go back to a
 * node the receiver has not heard of. {@code slot} is the epoch a Paxos message decides.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = RingMessage.Prepare.class, name = "prepare"),
  @JsonSubTypes.Type(value = RingMessage.Promise.class, name = "promise"),
  @JsonSubTypes.Type(value = RingMessage.Accept.class, name = "accept"),
  @JsonSubTypes.Type(value = RingMessage.Accepted.class, name = "accepted"),
  @JsonSubTypes.Type(value = RingMessage.Nack.class, name = "nack"),
  @JsonSubTypes.Type(value = RingMessage.Committed.class, name = "committed"),
  @JsonSubTypes.Type(value = RingMessage.EpochQuery.class, name = "query"),
  @JsonSubTypes.Type(value = RingMessage.EpochState.class, name = "state"),
  @JsonSubTypes.Type(value = RingMessage.FillDone.class, name = "fill-done")
})
public sealed interface RingMessage extends CborSerializable {
  RingMember from();

  /** Phase 1a: promise to ignore ballots below {@code ballot} for {@code slot}. */
  record Prepare(RingMember from, long slot, Ballot ballot) implements RingMessage {}

  /**
   * Phase 1b: promised; with the highest-ballot value this acceptor accepted for the slot, if any,
   * and the configuration's members it sees up (SWIM ALIVE or SUSPECT, itself included): a proposer
   * does not propose removing any of them ({@link RingAgreement}). Null {@code up} (a sender that
   * does not report it) is read as the sender alone.
   */
  record Promise(
      RingMember from,
      long slot,
      Ballot ballot,
      Ballot acceptedBallot,
      RingConfig acceptedValue,
      Set<String> up)
      implements RingMessage {
    public Promise {
      up = up == null ? Set.of(from.name()) : Set.copyOf(up);
    }
  }

  /** Phase 2a: accept {@code value} for {@code slot} at {@code ballot}. */
  record Accept(RingMember from, long slot, Ballot ballot, RingConfig value)
      implements RingMessage {}

  /** Phase 2b. */
  record Accepted(RingMember from, long slot, Ballot ballot) implements RingMessage {}

  /** Refused {@code ballot}: this acceptor promised {@code promised}, a higher one. */
  record Nack(RingMember from, long slot, Ballot ballot, Ballot promised) implements RingMessage {}

  /**
   * {@code config} is decided for {@code epoch}; sent by the proposer that saw a majority accept.
   */
  record Committed(RingMember from, long epoch, RingConfig config) implements RingMessage {}

  /** "I know {@code epoch}; tell me if you know a later one." */
  record EpochQuery(RingMember from, long epoch) implements RingMessage {}

  /** The sender's latest committed epoch: a full configuration, so taking it is catching up. */
  record EpochState(RingMember from, long epoch, RingConfig config) implements RingMessage {}

  /** {@code node} holds every range it gains in {@code epoch}'s transition. */
  record FillDone(RingMember from, long epoch, String node) implements RingMessage {}
}
