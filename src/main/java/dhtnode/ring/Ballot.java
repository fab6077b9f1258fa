package dhtnode.ring;

import dhtnode.common.CborSerializable;
import java.util.Comparator;

/**
 * A Paxos ballot: a round number, ties broken by the proposer's name, so two proposers never use
 * the same ballot. {@link #ZERO} is below every ballot a proposer uses.
 */
public record Ballot(long round, String proposer) implements Comparable<Ballot>, CborSerializable {

  public static final Ballot ZERO = new Ballot(0, "");

  private static final Comparator<Ballot> ORDER =
      Comparator.comparingLong(Ballot::round).thenComparing(Ballot::proposer);

  @Override
  public int compareTo(Ballot other) {
    return ORDER.compare(this, other);
  }

  public boolean above(Ballot other) {
    return compareTo(other) > 0;
  }

  @Override
  public String toString() {
    return round + "." + proposer;
  }
}
