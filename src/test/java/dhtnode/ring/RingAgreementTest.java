package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
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
  private static final RingMember D = new RingMember("d", "h", 7, 8);
  private static final RingMember E = new RingMember("e", "h", 9, 10);
  private static final RingConfig ABC = RingConfig.stable(List.of(A, B, C), Map.of(), "", "a");
  private static final RingConfig ABCD = RingConfig.stable(List.of(A, B, C, D), Map.of(), "", "a");

  private static RingAgreement at(RingMember self, long epoch, RingConfig config) {
    return new RingAgreement(
        self, new RingState(epoch, config, null, null, null), TIMING, new Random(1));
  }

  /**
   * Delivers every message between the given nodes until none is left (messages to any other node
   * are lost) and returns everything else they produced, in order.
   */
  private static List<RingAgreement.Ready> exchange(RingAgreement... nodes) {
    Map<String, RingAgreement> byName = new LinkedHashMap<>();
    for (RingAgreement n : nodes) {
      byName.put(n.self().name(), n);
    }
    List<RingAgreement.Ready> produced = new ArrayList<>();
    boolean sent = true;
    while (sent) {
      sent = false;
      for (RingAgreement n : nodes) {
        RingAgreement.Ready ready = n.drain();
        produced.add(ready);
        for (RingAgreement.Outgoing o : ready.messages()) {
          RingAgreement to = byName.get(o.to().name());
          if (to != null) {
            to.receive(o.message());
            sent = true;
          }
        }
      }
    }
    return produced;
  }

  private static List<RingAgreement.Commit> commits(List<RingAgreement.Ready> produced) {
    return produced.stream().flatMap(r -> r.commits().stream()).toList();
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
    a.receive(new RingMessage.Promise(B, 4, ballot, new Ballot(1, "c"), theirs, null));
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

  @Test
  void aRemovalIsWithdrawnWhileAnAcceptorOfItsPromiseQuorumStillSeesTheMemberUp() {
    // a healed 2|2 split: a still holds c DEAD, but d, on c's side of the split, sees it up
    RingAgreement a = at(A, 5, ABCD);
    RingAgreement b = at(B, 5, ABCD);
    RingAgreement d = at(D, 5, ABCD);
    a.setSeenUp(List.of("b", "d"));
    b.setSeenUp(List.of("a", "d"));
    d.setSeenUp(List.of("a", "b", "c"));
    RingConfig withoutC =
        RingConfig.of(List.of(A, B, C, D), List.of(A, B, D), Map.of(), "removed [c]", "a");
    a.propose(withoutC);
    List<RingAgreement.Ready> produced = exchange(a, b, d);
    assertEquals(List.of(), commits(produced), "no epoch without a member d sees up");
    List<RingAgreement.Veto> vetoes = produced.stream().flatMap(r -> r.vetoes().stream()).toList();
    assertEquals(
        List.of(new RingAgreement.Veto(6, withoutC, Map.of("c", java.util.Set.of("d")))), vetoes);
    assertTrue(!a.proposing(), "the proposal is withdrawn, for the policy to decide again");
    assertTrue(
        produced.stream()
            .flatMap(r -> r.messages().stream())
            .noneMatch(o -> o.message() instanceof RingMessage.Accept),
        "no acceptor was asked to accept it, so it cannot be chosen later either");

    // once d too sees c down (c really failed), the same removal is decided
    d.setSeenUp(List.of("a", "b"));
    a.propose(withoutC);
    List<RingAgreement.Commit> committed = commits(exchange(a, b, d));
    assertTrue(
        committed.contains(new RingAgreement.Commit(6, withoutC, true)), committed.toString());
    assertEquals(6, d.epoch());
  }

  @Test
  void aValueTooManyAcceptorsRefuseForGoodDoesNotBlockTheSlot() {
    // a and b accepted, at some earlier ballot, a value dropping both c and d unretired: c and d
    // never accept it, so it can never reach three of four; re-proposing it would stall epoch 6
    RingConfig withoutCd =
        RingConfig.of(List.of(A, B, C, D), List.of(A, B), Map.of(), "removed [c, d]", "a");
    Ballot earlier = new Ballot(1, "a");
    RingAgreement a =
        new RingAgreement(
            A, new RingState(5, ABCD, earlier, earlier, withoutCd), TIMING, new Random(1));
    RingAgreement b =
        new RingAgreement(
            B, new RingState(5, ABCD, earlier, earlier, withoutCd), TIMING, new Random(2));
    RingAgreement c = at(C, 5, ABCD);
    RingAgreement d = at(D, 5, ABCD);
    RingConfig join =
        RingConfig.of(List.of(A, B, C, D), List.of(A, B, C, D, E), Map.of(), "joined [e]", "a");
    a.propose(join);
    List<RingAgreement.Commit> committed = commits(exchange(a, b, c, d));
    assertTrue(committed.contains(new RingAgreement.Commit(6, join, true)), committed.toString());
    for (RingAgreement n : List.of(a, b, c, d)) {
      assertEquals(join, n.config(), n.self().name());
    }
  }
}
