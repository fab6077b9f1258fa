package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Lifeguard's rules on the pure protocol core, with a fake clock and recorded effects: local health
 * with nacks, dogpile suspicion, the buddy notice and the gossip tick.
 */
class SwimProtocolTest {
  private static final MembershipSettings SETTINGS =
      MembershipSettings.from(
          ConfigFactory.parseString("dht.membership { push-pull-interval = 1h }")
              .withFallback(ConfigFactory.defaultReference()));
  private static final Duration T = SETTINGS.protocolPeriod;

  private static Member peer(String name, int port) {
    return new Member(name, "127.0.0.1", port, port + 1000, MemberStatus.ALIVE, 1);
  }

  private static final List<Member> PEERS =
      List.of(peer("b", 7101), peer("c", 7102), peer("d", 7103), peer("e", 7104), peer("f", 7105));

  private static InetSocketAddress address(Member m) {
    return new InetSocketAddress(m.host(), m.clusterPort());
  }

  private record Sent(InetSocketAddress to, SwimMessage message) {}

  private static final Duration DRAIN = Duration.ofMillis(600);

  /** One protocol with a fake clock; timers fire in due order as time is advanced. */
  private static final class Harness implements SwimProtocol.Effects {
    long now;
    final Map<Object, Object[]> timers = new HashMap<>(); // key -> {due, timer}
    final List<Sent> sent = new ArrayList<>();
    final List<MemberEvent> events = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();
    final SwimProtocol protocol;

    /** A node of the default cluster that founds it, then hears from {@code peers}. */
    Harness(List<Member> peers) {
      this(
          new LocalNode(
              "self", "127.0.0.1", 7000, 8000, List.of(new InetSocketAddress("127.0.0.1", 7000))));
      if (!peers.isEmpty()) {
        deliver(new SwimMessage.JoinReply(peers.get(0), 1, peers));
      }
      // the news that the reply's sender joined is gossiped within a few gossip intervals
      advance(DRAIN);
      sent.clear();
    }

    /** {@code node}, started: its first JOINs are in {@link #sent}. */
    Harness(LocalNode node) {
      protocol = new SwimProtocol(node, 100, SETTINGS, new Random(1), () -> now, this);
      protocol.start();
    }

    /** Runs to the first protocol-period tick. */
    void firstTick() {
      advance(T.minus(DRAIN));
    }

    void deliver(SwimMessage message) {
      protocol.onDatagram(address(message.from()), WireCodec.encode(message));
    }

    void advance(Duration d) {
      long end = now + d.toNanos();
      while (true) {
        Map.Entry<Object, Object[]> next =
            timers.entrySet().stream()
                .filter(e -> (long) e.getValue()[0] <= end)
                .min((a, b) -> Long.compare((long) a.getValue()[0], (long) b.getValue()[0]))
                .orElse(null);
        if (next == null) {
          break;
        }
        timers.remove(next.getKey());
        now = (long) next.getValue()[0];
        protocol.onTimer((SwimProtocol.Timer) next.getValue()[1]);
      }
      now = end;
    }

    List<Sent> take() {
      List<Sent> out = new ArrayList<>(sent);
      sent.clear();
      return out;
    }

    @Override
    public void send(InetSocketAddress to, byte[] datagram) {
      try {
        sent.add(new Sent(to, WireCodec.decode(datagram)));
      } catch (WireCodec.MalformedDatagramException e) {
        throw new AssertionError(e);
      }
    }

    @Override
    public void startTimer(Object key, SwimProtocol.Timer timer, Duration delay) {
      timers.put(key, new Object[] {now + delay.toNanos(), timer});
    }

    @Override
    public void cancelTimer(Object key) {
      timers.remove(key);
    }

    @Override
    public void publish(MemberEvent event) {
      events.add(event);
    }

    @Override
    public void info(String line) {}

    @Override
    public void warn(String line) {
      warnings.add(line);
    }

    @Override
    public void debug(Supplier<String> line) {}
  }

  private static SwimMessage.Ping probeOf(List<Sent> sent) {
    return sent.stream()
        .map(Sent::message)
        .filter(SwimMessage.Ping.class::isInstance)
        .map(SwimMessage.Ping.class::cast)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no probe in " + sent));
  }

  @Test
  void failedProbesWithoutNacksRaiseLocalHealthAndStretchThePeriodAndAcksLowerIt() {
    Harness h = new Harness(PEERS);
    h.firstTick();
    probeOf(h.take());
    h.advance(SETTINGS.pingTimeout);
    long helpers =
        h.take().stream().filter(s -> s.message() instanceof SwimMessage.PingReq).count();
    assertEquals(3, helpers);
    h.advance(T.minus(SETTINGS.pingTimeout));
    // no ACK and no helper even sent a NACK: the fault is likely this node's
    assertEquals(3, h.protocol.localHealth());
    SwimMessage.Ping second = probeOf(h.take());
    Member target =
        PEERS.stream().filter(p -> p.name().equals(second.target())).findFirst().orElseThrow();
    h.deliver(new SwimMessage.Ack(target, second.seq(), target.name(), List.of()));
    // the next period is stretched by 1 + health: no new probe for 4 periods
    h.advance(T.multipliedBy(4).minusMillis(1));
    assertTrue(
        h.take().stream().noneMatch(s -> s.message() instanceof SwimMessage.Ping),
        "probed too early");
    h.advance(Duration.ofMillis(1));
    probeOf(h.take());
    assertEquals(2, h.protocol.localHealth(), "an answered probe lowers health by one");
  }

  @Test
  void nacksFromEveryHelperKeepLocalHealthWhileTheTargetIsSuspected() {
    Harness h = new Harness(PEERS);
    h.firstTick();
    SwimMessage.Ping ping = probeOf(h.take());
    h.advance(SETTINGS.pingTimeout);
    for (Sent s :
        h.take().stream().filter(s -> s.message() instanceof SwimMessage.PingReq).toList()) {
      SwimMessage.PingReq request = assertInstanceOf(SwimMessage.PingReq.class, s.message());
      Member helper =
          PEERS.stream().filter(p -> address(p).equals(s.to())).findFirst().orElseThrow();
      h.deliver(new SwimMessage.Nack(helper, request.seq(), ping.target(), List.of(), Map.of()));
    }
    h.advance(T.minus(SETTINGS.pingTimeout));
    assertEquals(0, h.protocol.localHealth());
    assertEquals(MemberStatus.SUSPECT, h.protocol.member(ping.target()).orElseThrow().status());
    assertEquals(java.util.Set.of("self"), h.protocol.accusers(ping.target()));
  }

  @Test
  void aHelperWhoseTargetStaysSilentSendsANackToTheRequester() {
    Harness h = new Harness(PEERS);
    Member requester = PEERS.get(0);
    h.deliver(new SwimMessage.PingReq(requester, 42, PEERS.get(1), List.of()));
    SwimMessage.Ping relayed = probeOf(h.take());
    assertEquals(PEERS.get(1).name(), relayed.target());
    h.advance(SETTINGS.pingTimeout);
    Sent nack =
        h.take().stream()
            .filter(s -> s.message() instanceof SwimMessage.Nack)
            .findFirst()
            .orElseThrow();
    assertEquals(address(requester), nack.to());
    SwimMessage.Nack message = assertInstanceOf(SwimMessage.Nack.class, nack.message());
    assertEquals(42, message.seq());
    assertEquals(PEERS.get(1).name(), message.subject());

    // answered in time: the ACK is relayed and no NACK follows
    h.deliver(new SwimMessage.PingReq(requester, 43, PEERS.get(2), List.of()));
    SwimMessage.Ping second = probeOf(h.take());
    h.deliver(new SwimMessage.Ack(PEERS.get(2), second.seq(), PEERS.get(2).name(), List.of()));
    assertTrue(
        h.take().stream().anyMatch(s -> s.message() instanceof SwimMessage.Ack a && a.seq() == 43));
    h.advance(SETTINGS.pingTimeout);
    assertTrue(h.take().stream().noneMatch(s -> s.message() instanceof SwimMessage.Nack));
  }

  @Test
  void aSuspicionStartsAtItsMaximumAndEachIndependentAccuserShortensIt() {
    Harness h = new Harness(PEERS);
    Member suspect = PEERS.get(4).withStatus(MemberStatus.SUSPECT, 1);
    int n = PEERS.size() + 1;
    Duration min = SETTINGS.suspicionTimeout(n);
    Duration max = SETTINGS.suspicionTimeout(n, 0);
    assertEquals(Math.round(min.toNanos() * SETTINGS.suspicionMaxMultiplier), max.toNanos());
    h.deliver(
        new SwimMessage.Ping(
            PEERS.get(0), 1, "self", List.of(suspect), Map.of(suspect.name(), "b")));
    assertEquals(max, h.protocol.suspicionTimeoutOf(suspect.name()));

    // the same accuser again is no confirmation
    h.deliver(
        new SwimMessage.Ping(
            PEERS.get(1), 2, "self", List.of(suspect), Map.of(suspect.name(), "b")));
    assertEquals(max, h.protocol.suspicionTimeoutOf(suspect.name()));
    h.deliver(
        new SwimMessage.Ping(
            PEERS.get(1), 3, "self", List.of(suspect), Map.of(suspect.name(), "c")));
    Duration one = h.protocol.suspicionTimeoutOf(suspect.name());
    assertTrue(one.compareTo(max) < 0 && one.compareTo(min) > 0, "one confirmation: " + one);
    // confirmations are gossiped on with their accuser
    h.advance(SETTINGS.gossipInterval);
    assertTrue(
        h.take().stream().anyMatch(s -> "c".equals(s.message().accusers().get(suspect.name()))));

    h.deliver(
        new SwimMessage.Ping(
            PEERS.get(2), 4, "self", List.of(suspect), Map.of(suspect.name(), "d")));
    h.deliver(
        new SwimMessage.Ping(
            PEERS.get(3), 5, "self", List.of(suspect), Map.of(suspect.name(), "e")));
    assertEquals(min, h.protocol.suspicionTimeoutOf(suspect.name()));
    // past the minimum already? then the suspect is dead at once
    h.advance(min.minus(SETTINGS.gossipInterval).minusMillis(1));
    assertEquals(MemberStatus.SUSPECT, h.protocol.member(suspect.name()).orElseThrow().status());
    h.advance(Duration.ofMillis(1));
    assertEquals(MemberStatus.DEAD, h.protocol.member(suspect.name()).orElseThrow().status());
  }

  @Test
  void eachMemberIsKnownSinceItEnteredItsStatusNotSinceItsLatestIncarnation() {
    // every step well before the first protocol-period tick, so no probe of this node's own
    // interferes
    Harness h = new Harness(PEERS);
    Member b = PEERS.get(0);
    long joined = h.protocol.statusSinceNanos(b.name());
    h.advance(Duration.ofMillis(100));
    h.deliver(
        new SwimMessage.Gossip(
            PEERS.get(1), 1, List.of(b.withStatus(MemberStatus.ALIVE, 2)), Map.of()));
    assertEquals(joined, h.protocol.statusSinceNanos(b.name()), "a new incarnation, still ALIVE");
    h.advance(Duration.ofMillis(100));
    h.deliver(
        new SwimMessage.Gossip(
            PEERS.get(1),
            2,
            List.of(b.withStatus(MemberStatus.SUSPECT, 2)),
            Map.of(b.name(), "c")));
    assertEquals(h.now, h.protocol.statusSinceNanos(b.name()));
    assertEquals(java.util.Set.of("c"), h.protocol.accusers(b.name()));
    long suspected = h.now;
    h.advance(Duration.ofMillis(100));
    h.deliver(
        new SwimMessage.Gossip(
            PEERS.get(2),
            3,
            List.of(b.withStatus(MemberStatus.SUSPECT, 2)),
            Map.of(b.name(), "d")));
    assertEquals(
        suspected, h.protocol.statusSinceNanos(b.name()), "a confirmation does not move it");
    assertEquals(java.util.Set.of("c", "d"), h.protocol.accusers(b.name()));
    h.advance(Duration.ofMillis(100));
    h.deliver(new SwimMessage.Gossip(b, 4, List.of(b.withStatus(MemberStatus.ALIVE, 3)), Map.of()));
    assertEquals(h.now, h.protocol.statusSinceNanos(b.name()), "refuted: ALIVE again from now");
    assertEquals(java.util.Set.of(), h.protocol.accusers(b.name()));
    assertEquals(null, h.protocol.statusSinceNanos("nobody"));
  }

  @Test
  void aConfirmationArrivingAfterTheShorterTimeoutDeclaresDeadAtOnce() {
    Harness h = new Harness(PEERS);
    Member suspect = PEERS.get(4).withStatus(MemberStatus.SUSPECT, 1);
    h.deliver(
        new SwimMessage.Ping(
            PEERS.get(0), 1, "self", List.of(suspect), Map.of(suspect.name(), "b")));
    h.advance(SETTINGS.suspicionTimeout(PEERS.size() + 1).plusMillis(1));
    assertEquals(MemberStatus.SUSPECT, h.protocol.member(suspect.name()).orElseThrow().status());
    for (String accuser : List.of("c", "d", "e")) {
      h.deliver(
          new SwimMessage.Ping(
              PEERS.get(1), 2, "self", List.of(suspect), Map.of(suspect.name(), accuser)));
    }
    assertEquals(MemberStatus.DEAD, h.protocol.member(suspect.name()).orElseThrow().status());
    assertTrue(h.events.stream().anyMatch(e -> e instanceof MemberEvent.MemberDied));
  }

  @Test
  void aProbeOfASuspectCarriesItsSuspicionFirstWithTheAccuser() {
    Harness h = new Harness(List.of(PEERS.get(0)));
    Member suspect = PEERS.get(0).withStatus(MemberStatus.SUSPECT, 1);
    h.deliver(
        new SwimMessage.Gossip(peer("z", 7200), 1, List.of(suspect), Map.of(suspect.name(), "z")));
    h.take();
    h.firstTick();
    SwimMessage.Ping ping = null;
    for (int i = 0; i < 3 && ping == null; i++) {
      ping =
          h.take().stream()
              .map(Sent::message)
              .filter(SwimMessage.Ping.class::isInstance)
              .map(SwimMessage.Ping.class::cast)
              .filter(p -> p.target().equals("b"))
              .findFirst()
              .orElse(null);
      h.advance(T);
    }
    assertTrue(ping != null, "b was never probed");
    assertEquals(suspect, ping.gossip().get(0));
    assertEquals("z", ping.accusers().get("b"));
  }

  @Test
  void pendingGossipGoesToGossipNodesMembersEveryIntervalIncludingTheRecentlyDead() {
    Harness h = new Harness(PEERS);
    h.advance(SETTINGS.gossipInterval);
    assertTrue(
        h.take().stream().noneMatch(s -> s.message() instanceof SwimMessage.Gossip),
        "nothing pending");
    Member dead = PEERS.get(0).withStatus(MemberStatus.DEAD, 1);
    h.deliver(new SwimMessage.Gossip(PEERS.get(1), 1, List.of(dead), Map.of()));
    h.take();
    java.util.Set<InetSocketAddress> told = new java.util.HashSet<>();
    for (int i = 0; i < 20; i++) {
      // keep news pending: a new member every interval
      h.deliver(
          new SwimMessage.Gossip(PEERS.get(1), 2 + i, List.of(peer("x" + i, 7400 + i)), Map.of()));
      h.advance(SETTINGS.gossipInterval);
      List<Sent> gossip =
          h.take().stream().filter(s -> s.message() instanceof SwimMessage.Gossip).toList();
      assertTrue(gossip.size() <= SETTINGS.gossipNodes);
      gossip.forEach(s -> told.add(s.to()));
    }
    assertTrue(
        told.contains(address(PEERS.get(0))), "the recently dead member is told too: " + told);
  }

  @Test
  void aJoinReplyIsSplitIntoPartsUnderTheDatagramBound() {
    List<Member> many = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      many.add(peer("member-" + i, 9000 + i));
    }
    Harness h = new Harness(many);
    h.deliver(new SwimMessage.Join(peer("joiner", 7300), 9, List.of()));
    List<Sent> parts = h.take();
    assertTrue(parts.size() > 1);
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Sent s : parts) {
      SwimMessage.JoinReply reply = assertInstanceOf(SwimMessage.JoinReply.class, s.message());
      assertEquals(9, reply.seq());
      assertTrue(WireCodec.encode(reply).length <= SETTINGS.maxDatagramSize);
      reply.gossip().forEach(m -> names.add(m.name()));
    }
    assertEquals(202, names.size());
  }

  private static final InetSocketAddress NAMED_SEED =
      InetSocketAddress.createUnresolved("seed.example", 7101);

  private static LocalNode namedSeedNode(String cluster) {
    return new LocalNode("self", "127.0.0.1", 7000, 8000, List.of(NAMED_SEED), "0.0.0.0", cluster);
  }

  private static List<SwimMessage.Join> joinsTo(List<Sent> sent, InetSocketAddress to) {
    return sent.stream()
        .filter(x -> x.to().equals(to) && x.message() instanceof SwimMessage.Join)
        .map(x -> (SwimMessage.Join) x.message())
        .toList();
  }

  @Test
  void aJoinFromAnotherClusterIsRefusedWithoutLearningAnythingFromIt() {
    Harness h = new Harness(PEERS);
    h.events.clear();
    Member stranger = peer("stranger", 7201);
    Member strangersPeer = peer("strangers-peer", 7202);
    for (int i = 0; i < 3; i++) {
      h.deliver(new SwimMessage.Join(stranger, 40 + i, "other", List.of(strangersPeer), Map.of()));
    }
    List<Sent> sent = h.take();
    assertEquals(3, sent.size(), "one refusal per JOIN, nothing else: " + sent);
    for (int i = 0; i < 3; i++) {
      assertEquals(address(stranger), sent.get(i).to());
      assertEquals(
          new SwimMessage.JoinRefused(h.protocol.self(), 40 + i, LocalNode.DEFAULT_CLUSTER),
          sent.get(i).message());
    }
    assertTrue(h.protocol.member("stranger").isEmpty(), "the joiner is not a member");
    assertTrue(h.protocol.member("strangers-peer").isEmpty(), "nor is its gossip applied");
    assertTrue(h.events.isEmpty(), "no member event: " + h.events);
    assertEquals(1, h.warnings.size(), "one line for a joiner that keeps trying: " + h.warnings);
    assertTrue(
        h.warnings.get(0).contains("stranger") && h.warnings.get(0).contains("\"other\""),
        h.warnings.get(0));
    // a JOIN of this node's own cluster is still answered with the member list
    h.deliver(new SwimMessage.Join(peer("friend", 7203), 50, List.of()));
    assertTrue(
        h.take().stream().anyMatch(x -> x.message() instanceof SwimMessage.JoinReply),
        "a joiner of the same cluster gets the member list");
    assertTrue(h.protocol.member("friend").isPresent());
  }

  @Test
  void aJoinerRefusedByASeedOfAnotherClusterSaysSoOnceAndKeepsTrying() {
    Harness h = new Harness(namedSeedNode("blue"));
    List<SwimMessage.Join> first = joinsTo(h.take(), NAMED_SEED);
    assertEquals(1, first.size(), "JOIN sent to the seed as named, for the transport to resolve");
    assertEquals("blue", first.get(0).cluster());
    Member seed = peer("b", 7101);
    h.deliver(new SwimMessage.JoinRefused(seed, first.get(0).seq(), "red"));
    assertEquals(1, h.warnings.size(), h.warnings.toString());
    assertTrue(h.warnings.get(0).contains("\"red\""), h.warnings.get(0));
    assertTrue(h.protocol.member("b").isEmpty(), "a refusing seed is not a member");
    assertTrue(!h.protocol.isJoined());
    h.advance(SETTINGS.joinRetryInterval);
    List<SwimMessage.Join> again = joinsTo(h.take(), NAMED_SEED);
    assertEquals(1, again.size(), "it keeps trying");
    h.deliver(new SwimMessage.JoinRefused(seed, again.get(0).seq(), "red"));
    assertEquals(1, h.warnings.size(), "said once: " + h.warnings);
    // a refusal of a JOIN it never sent is dropped
    h.deliver(new SwimMessage.JoinRefused(peer("c", 7102), 999, "green"));
    assertEquals(1, h.warnings.size(), h.warnings.toString());
  }

  @Test
  void aSeedGivenByNameIsJoinedAgainOnlyWhileTheMemberThatAnsweredIsNotUp() {
    Harness h = new Harness(namedSeedNode(LocalNode.DEFAULT_CLUSTER));
    SwimMessage.Join join = joinsTo(h.take(), NAMED_SEED).get(0);
    // the name resolved to 10.9.0.1: the member advertises that address, not the name
    Member b = new Member("b", "10.9.0.1", 7101, 8101, MemberStatus.ALIVE, 1);
    h.deliver(new SwimMessage.JoinReply(b, join.seq(), List.of(b)));
    assertTrue(h.protocol.isJoined());
    h.take();
    h.advance(SETTINGS.joinRetryInterval.multipliedBy(3));
    assertEquals(List.of(), joinsTo(h.take(), NAMED_SEED), "no JOIN to a seed whose member is up");
    h.deliver(
        new SwimMessage.Gossip(
            peer("c", 7102), 5, List.of(b.withStatus(MemberStatus.DEAD, 1)), Map.of()));
    h.advance(SETTINGS.joinRetryInterval);
    assertEquals(
        1,
        joinsTo(h.take(), NAMED_SEED).size(),
        "a seed whose member is down is joined again, by name, looked up anew");
  }
}
