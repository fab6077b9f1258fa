package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The acceptor and proposer rules of {@link RingAgreement}, one step at a time. */
class RingAgreementTest {
  private static final RingAgreement.Timing TIMING = new RingAgreement.Timing(5, 3, 10);
  private static final RingMember A = new RingMember("a", "h", 1, 2);
  private static final RingMember B = new RingMember("b", "h", 3, 4);
  private static final RingMember C = new RingMember("c", "h", 5, 6);
  private static final RingConfig ABC = RingConfig.stable(List.of(A, B, C), Map.of(), "", "a");

  private static RingAgreement at(RingMember self, long epoch, RingConfig config) {
    return new RingAgreement(
        self, new RingState(epoch, config, null, null, null), TIMING, new Random(1));
  }

  private static RingMessage only(RingAgreement.Ready ready) {
    assertEquals(1, ready.messages().size(), ready.messages().toString());
    return ready.messages().get(0).message();
  }

  @Test
  void anAcceptorBehindAsksToBeCaughtUpInsteadOfVoting() {
    RingAgreement b = at(B, 3, ABC);
    b.receive(new RingMessage.Prepare(A, 6, new Ballot(1, "a")));
    RingAgreement.Ready ready = b.drain();
    assertInstanceOf(RingMessage.EpochQuery.class, only(ready));
    assertNull(ready.persist(), "no promise was made");
  }

  @Test
  void anAcceptorAheadAnswersWithItsLatestConfiguration() {
    RingAgreement b = at(B, 7, ABC);
    b.receive(
        new RingMessage.Accept(
            A, 5, new Ballot(9, "a"), RingConfig.stable(List.of(A), Map.of(), "", "a")));
    RingMessage.EpochState state = assertInstanceOf(RingMessage.EpochState.class, only(b.drain()));
    assertEquals(7, state.epoch());
    assertEquals(ABC, state.config());
  }

  @Test
  void aNonMemberNeverVotes() {
    RingConfig ab = RingConfig.stable(List.of(A, B), Map.of(), "", "a");
    RingAgreement c = at(C, 3, ab);
    c.receive(new RingMessage.Prepare(A, 4, new Ballot(1, "a")));
    assertTrue(c.drain().isEmpty());
  }

  @Test
  void aPromiseAndAnAcceptanceAreInTheStateToPersistAndSurviveARestart() {
    RingAgreement b = at(B, 3, ABC);
    RingConfig value = RingConfig.stable(List.of(A, B), Map.of(), "removed [c]", "a");
    b.receive(new RingMessage.Prepare(A, 4, new Ballot(2, "a")));
    RingAgreement.Ready promised = b.drain();
    assertEquals(new Ballot(2, "a"), promised.persist().promised());
    b.receive(new RingMessage.Accept(A, 4, new Ballot(2, "a"), value));
    RingState saved = b.drain().persist();
    assertNotNull(saved);
    // restarted from what was saved: a lower ballot is refused, and a new proposer learns the value
    RingAgreement again = new RingAgreement(B, saved, TIMING, new Random(2));
    again.receive(new RingMessage.Prepare(C, 4, new Ballot(1, "c")));
    assertInstanceOf(RingMessage.Nack.class, only(again.drain()));
    again.receive(new RingMessage.Prepare(C, 4, new Ballot(3, "c")));
    RingMessage.Promise promise = assertInstanceOf(RingMessage.Promise.class, only(again.drain()));
    assertEquals(value, promise.acceptedValue());
  }

  @Test
  void aMemberNeverAcceptsItsOwnRemovalUnlessItWasRetired() {
    RingAgreement c = at(C, 3, ABC);
    RingConfig withoutC =
        RingConfig.of(List.of(A, B, C), List.of(A, B), Map.of(), "removing [c]", "a");
    c.receive(new RingMessage.Prepare(A, 4, new Ballot(2, "a")));
    c.drain();
    c.receive(new RingMessage.Accept(A, 4, new Ballot(2, "a"), withoutC));
    RingAgreement.Ready refused = c.drain();
    assertTrue(refused.messages().isEmpty(), "no vote for its own removal: " + refused.messages());
    RingConfig decommissioned =
        RingConfig.of(List.of(A, B, C), List.of(A, B), Map.of("c", 5L), "decommissioning c", "c");
    c.receive(new RingMessage.Accept(A, 4, new Ballot(2, "a"), decommissioned));
    assertInstanceOf(
        RingMessage.Accepted.class, only(c.drain()), "retired by an operator: it votes");
    RingAgreement b = at(B, 3, ABC);
    b.receive(new RingMessage.Accept(A, 4, new Ballot(2, "a"), withoutC));
    assertInstanceOf(RingMessage.Accepted.class, only(b.drain()), "the others vote as usual");
  }

  @Test
  void aProposerAdoptsTheHighestAcceptedValueFromItsPromises() {
    RingAgreement a = at(A, 3, ABC);
    RingConfig mine = RingConfig.stable(List.of(A), Map.of(), "mine", "a");
    RingConfig theirs = RingConfig.stable(List.of(A, B), Map.of(), "theirs", "c");
    a.propose(mine);
    a.drain();
    assertEquals(mine, a.proposal());
    Ballot ballot = new Ballot(1, "a"); // the first round above anything a has seen
    // a's own promise came through loopback; b reports an earlier acceptance of another value
    a.receive(new RingMessage.Promise(B, 4, ballot, new Ballot(1, "c"), theirs));
    List<RingAgreement.Outgoing> accepts = a.drain().messages();
    RingMessage.Accept accept =
        assertInstanceOf(RingMessage.Accept.class, accepts.get(0).message());
    assertEquals(
        theirs, accept.value(), "an accepted value may have been decided: it wins over our own");
    a.receive(new RingMessage.Accepted(B, 4, ballot));
    RingAgreement.Ready ready = a.drain();
    assertEquals(List.of(new RingAgreement.Commit(4, theirs, true)), ready.commits());
    assertEquals(4, ready.persist().epoch());
  }
}
