package dhtnode.ring;

/**
 * What a node's ring agreement must find again after a restart: its latest committed epoch and
 * configuration, and its acceptor state for the open slot ({@code epoch + 1}): the highest ballot
 * it promised and the value it accepted, if any. Epoch 0 (config null) is a node in no ring yet.
 */
public record RingState(
    long epoch,
    RingConfig config,
    Ballot promised,
    Ballot acceptedBallot,
    RingConfig acceptedValue) {

  public static final RingState EMPTY = new RingState(0, null, Ballot.ZERO, Ballot.ZERO, null);

  public RingState {
    promised = promised == null ? Ballot.ZERO : promised;
    acceptedBallot = acceptedBallot == null ? Ballot.ZERO : acceptedBallot;
  }
}
