package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.util.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dhtnode.metrics.Metrics;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The membership actor against a probe in place of the UDP transport, under manual time: the test
 * decodes every datagram the actor sends and plays the other members by injecting datagrams.
 */
class MembershipActorTest {
  private static final Config CONFIG =
      ConfigFactory.parseString("akka.actor.provider = local")
          .withFallback(ManualTime.config())
          .withFallback(ConfigFactory.defaultReference());

  static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  /**
   * Plain SWIM timing for these tests: no gossip tick or push-pull datagrams in between, no
   * local-health stretching and no dogpile lengthening (those rules are tested on the pure core in
   * SwimProtocolTest and measured in SwimSimulationTest).
   */
  private static final MembershipSettings SETTINGS =
      MembershipSettings.from(
          ConfigFactory.parseString(
                  "dht.membership { gossip-nodes = 0, push-pull-interval = 1h, max-local-health = 1, suspicion-max-multiplier = 1 }")
              .withFallback(ConfigFactory.defaultReference()));

  private static final Duration T = SETTINGS.protocolPeriod;
  private static final Duration PING_TIMEOUT = SETTINGS.pingTimeout;
  private static final long SELF_INCARNATION = 1000;

  private final List<ActorRef<?>> spawned = new ArrayList<>();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void stopActors() {
    spawned.forEach(testKit::stop);
  }

  private static Member peer(String name, int port) {
    return new Member(name, "127.0.0.1", port, port + 1000, MemberStatus.ALIVE, 1);
  }

  private static final Member B = peer("b", 7101);
  private static final Member C = peer("c", 7102);
  private static final Member D = peer("d", 7103);
  private static final Map<String, Member> PEERS = Map.of("b", B, "c", C, "d", D);

  private static InetSocketAddress address(Member m) {
    return new InetSocketAddress(m.host(), m.clusterPort());
  }

  private record Sent(InetSocketAddress to, SwimMessage message) {}

  /** One membership actor named "self" on 127.0.0.1:7000, wired to a probe transport. */
  private final class Node {
    final TestProbe<UdpTransport.Command> udp = testKit.createTestProbe();
    final ActorRef<MembershipActor.Command> actor;
    final ActorRef<UdpTransport.Datagram> listener;

    Node(String... seeds) {
      List<InetSocketAddress> seedList =
          seeds.length == 0
              ? List.of(new InetSocketAddress("127.0.0.1", 7000))
              : List.of(seeds).stream()
                  .map(
                      s ->
                          new InetSocketAddress(
                              "127.0.0.1", Integer.parseInt(s.substring(s.indexOf(':') + 1))))
                  .toList();
      LocalNode node = new LocalNode("self", "127.0.0.1", 7000, 8000, seedList);
      actor =
          testKit.spawn(
              MembershipActor.create(
                  node,
                  SETTINGS,
                  udp.ref(),
                  new Random(1),
                  SELF_INCARNATION,
                  false,
                  new Metrics("node1")));
      spawned.add(actor);
      listener = udp.expectMessageClass(UdpTransport.Register.class).listener();
    }

    Sent next() {
      UdpTransport.Send send = udp.expectMessageClass(UdpTransport.Send.class);
      try {
        return new Sent(send.to(), WireCodec.decode(send.payload().toArray()));
      } catch (WireCodec.MalformedDatagramException e) {
        throw new AssertionError("the actor sent an undecodable datagram", e);
      }
    }

    <M extends SwimMessage> M next(Class<M> type, Member to) {
      Sent sent = next();
      assertEquals(address(to), sent.to(), "recipient of " + sent.message());
      return assertInstanceOf(type, sent.message());
    }

    void inject(SwimMessage message) {
      injectBytes(address(message.from()), WireCodec.encode(message));
    }

    void injectBytes(InetSocketAddress from, byte[] bytes) {
      listener.tell(new UdpTransport.Datagram(from, ByteString.fromArray(bytes)));
    }

    Map<String, Member> members() {
      TestProbe<MembershipActor.Members> reply = testKit.createTestProbe();
      actor.tell(new MembershipActor.GetMembers(reply.ref()));
      MembershipActor.Members members = reply.receiveMessage();
      assertEquals("self", members.self());
      Map<String, Member> byName = new LinkedHashMap<>();
      members.members().forEach(m -> byName.put(m.name(), m));
      return byName;
    }

    MembershipActor.Standing standing(String name) {
      TestProbe<MembershipActor.Members> reply = testKit.createTestProbe();
      actor.tell(new MembershipActor.GetMembers(reply.ref()));
      return reply.receiveMessage().standings().get(name);
    }

    MemberStatus status(String name) {
      return members().get(name).status();
    }

    SwimMessage.JoinReply join(Member peer) {
      inject(new SwimMessage.Join(peer, 77, List.of()));
      return next(SwimMessage.JoinReply.class, peer);
    }

    /** Lets one protocol period start and returns its probe. */
    SwimMessage.Ping nextProbe() {
      manualTime.timePasses(T);
      Sent sent = next();
      SwimMessage.Ping ping = assertInstanceOf(SwimMessage.Ping.class, sent.message());
      assertEquals(address(PEERS.get(ping.target())), sent.to());
      return ping;
    }

    void ack(SwimMessage.Ping ping) {
      Member target = PEERS.get(ping.target());
      inject(new SwimMessage.Ack(target, ping.seq(), target.name(), List.of()));
    }

    /** Runs the rest of the period of {@code ping}, answered or not, and returns the next probe. */
    SwimMessage.Ping endPeriod(SwimMessage.Ping ping, boolean answered) {
      if (answered) {
        ack(ping);
      }
      int helpers =
          members().values().stream()
              .filter(m -> m.isUp() && !m.name().equals("self") && !m.name().equals(ping.target()))
              .mapToInt(m -> 1)
              .sum();
      manualTime.timePasses(PING_TIMEOUT);
      if (!answered) {
        for (int i = 0; i < Math.min(SETTINGS.indirectProbes, helpers); i++) {
          assertInstanceOf(SwimMessage.PingReq.class, next().message());
        }
      }
      manualTime.timePasses(T.minus(PING_TIMEOUT));
      Sent sent = next();
      return assertInstanceOf(SwimMessage.Ping.class, sent.message());
    }
  }

  @Test
  void joinReturnsTheFullMemberListAndAnnouncesTheJoiner() {
    Node node = new Node();
    TestProbe<MemberEvent> events = testKit.createTestProbe();
    node.actor.tell(new MembershipActor.Subscribe(events.ref()));
    assertEquals("self", events.expectMessageClass(MemberEvent.MemberJoined.class).member().name());

    node.join(B);
    assertEquals(new MemberEvent.MemberJoined(B, "b"), events.receiveMessage());
    SwimMessage.JoinReply reply = node.join(C);
    assertEquals(List.of("b", "c", "self"), reply.gossip().stream().map(Member::name).toList());
    assertEquals(SELF_INCARNATION, reply.from().incarnation());
    assertEquals(Set.of("b", "c", "self"), node.members().keySet());
  }

  @Test
  void subscriberFirstGetsEveryUpMemberIncludingSelf() {
    Node node = new Node();
    node.join(B);
    node.inject(new SwimMessage.Ping(B, 1, "self", List.of(C.withStatus(MemberStatus.DEAD, 1))));
    node.next(SwimMessage.Ack.class, B);

    TestProbe<MemberEvent> events = testKit.createTestProbe();
    node.actor.tell(new MembershipActor.Subscribe(events.ref()));
    assertEquals("b", events.expectMessageClass(MemberEvent.MemberJoined.class).member().name());
    assertEquals("self", events.expectMessageClass(MemberEvent.MemberJoined.class).member().name());
    events.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void directAckKeepsAMemberAlive() {
    Node node = new Node();
    node.join(B);
    SwimMessage.Ping ping = node.nextProbe();
    assertEquals("b", ping.target());
    SwimMessage.Ping next = node.endPeriod(ping, true);
    assertEquals("b", next.target());
    assertEquals(MemberStatus.ALIVE, node.status("b"));
  }

  @Test
  void droppedDirectAckWithRelayedIndirectAckKeepsAMemberAlive() {
    Node node = new Node();
    node.join(B);
    node.join(C);
    node.join(D);
    TestProbe<MemberEvent> events = testKit.createTestProbe();
    node.actor.tell(new MembershipActor.Subscribe(events.ref()));
    for (int i = 0; i < 4; i++) {
      events.expectMessageClass(MemberEvent.MemberJoined.class);
    }

    SwimMessage.Ping ping = node.nextProbe();
    manualTime.timePasses(PING_TIMEOUT);
    List<Sent> requests = List.of(node.next(), node.next());
    for (Sent request : requests) {
      SwimMessage.PingReq pingReq = assertInstanceOf(SwimMessage.PingReq.class, request.message());
      assertEquals(ping.target(), pingReq.target().name());
    }
    // one helper relays the target's ACK under the original probe's sequence number
    SwimMessage.PingReq first = (SwimMessage.PingReq) requests.get(0).message();
    Member helper =
        node.members().values().stream()
            .filter(m -> address(m).equals(requests.get(0).to()))
            .findFirst()
            .orElseThrow();
    node.inject(new SwimMessage.Ack(helper, first.seq(), ping.target(), List.of()));
    manualTime.timePasses(T.minus(PING_TIMEOUT));
    node.next(); // the next period's probe

    assertEquals(MemberStatus.ALIVE, node.status(ping.target()));
    events.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void suspectIsDeclaredDeadWhenNotRefutedInTime() {
    Node node = new Node();
    node.join(B);
    node.join(C);
    node.join(D);
    TestProbe<MemberEvent> events = testKit.createTestProbe();
    node.actor.tell(new MembershipActor.Subscribe(events.ref()));
    for (int i = 0; i < 4; i++) {
      events.expectMessageClass(MemberEvent.MemberJoined.class);
    }

    SwimMessage.Ping ping = node.nextProbe();
    String silent = ping.target();
    // every ACK dropped: direct and via both helpers
    ping = node.endPeriod(ping, false);
    assertEquals(MemberStatus.SUSPECT, node.status(silent));
    MemberEvent.MemberSuspected suspected =
        events.expectMessageClass(MemberEvent.MemberSuspected.class);
    assertEquals(silent, suspected.member().name());
    assertEquals("self", suspected.by());
    assertEquals("no ack direct or via 2 helpers", suspected.reason());
    MembershipActor.Standing standing = node.standing(silent);
    assertEquals(List.of("self"), standing.suspectedBy());
    assertTrue(standing.since() != null, "since when it is SUSPECT");
    assertEquals(List.of(), node.standing("self").suspectedBy());

    // suspicion timeout with 4 members is 2 periods: still suspect after one
    ping = node.endPeriod(ping, !ping.target().equals(silent));
    assertEquals(MemberStatus.SUSPECT, node.status(silent));
    node.endPeriod(ping, !ping.target().equals(silent));
    assertEquals(MemberStatus.DEAD, node.status(silent));
    MemberEvent.MemberDied died = events.expectMessageClass(MemberEvent.MemberDied.class);
    assertEquals(silent, died.member().name());
    assertEquals("self", died.by());
    assertEquals("suspect for 2000 ms, not refuted", died.reason());
    events.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void suspectThatRefutesWithAHigherIncarnationIsAliveAgain() {
    Node node = new Node();
    node.join(B);
    node.join(C);
    TestProbe<MemberEvent> events = testKit.createTestProbe();
    node.actor.tell(new MembershipActor.Subscribe(events.ref()));
    for (int i = 0; i < 3; i++) {
      events.expectMessageClass(MemberEvent.MemberJoined.class);
    }
    SwimMessage.Ping ping = node.nextProbe();
    Member suspect = PEERS.get(ping.target());
    SwimMessage.Ping next = node.endPeriod(ping, false);
    assertEquals(
        MemberStatus.SUSPECT,
        events.expectMessageClass(MemberEvent.MemberSuspected.class).member().status());

    // the suspect pings us; our ACK tells it that it is suspected
    node.inject(new SwimMessage.Ping(suspect, 5, "self", List.of()));
    SwimMessage.Ack ack = node.next(SwimMessage.Ack.class, suspect);
    assertEquals(suspect.withStatus(MemberStatus.SUSPECT, 1), ack.gossip().get(0));

    // it refutes at a higher incarnation
    Member refuted = suspect.withStatus(MemberStatus.ALIVE, 2);
    node.inject(new SwimMessage.Ack(refuted, next.seq() + 1000, refuted.name(), List.of()));
    assertEquals(refuted, node.members().get(suspect.name()));
    assertEquals(new MemberEvent.MemberAlive(refuted, suspect.name()), events.receiveMessage());

    // and is not declared dead when the old suspicion would have expired
    for (int i = 0; i < 3; i++) {
      next = node.endPeriod(next, true);
    }
    assertEquals(MemberStatus.ALIVE, node.status(suspect.name()));
    events.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void staleGossipNeverResurrectsADeadMember() {
    Node node = new Node();
    node.join(B);
    node.join(C);
    node.inject(new SwimMessage.Ping(B, 1, "self", List.of(C.withStatus(MemberStatus.DEAD, 1))));
    node.next(SwimMessage.Ack.class, B);
    assertEquals(MemberStatus.DEAD, node.status("c"));

    node.inject(
        new SwimMessage.Ping(B, 2, "self", List.of(C, C.withStatus(MemberStatus.SUSPECT, 1))));
    node.next(SwimMessage.Ack.class, B);
    assertEquals(MemberStatus.DEAD, node.status("c"));

    // c itself, paused and unaware, pings at the old incarnation: it is told that it is dead
    node.inject(new SwimMessage.Ping(C, 3, "self", List.of()));
    SwimMessage.Ack toC = node.next(SwimMessage.Ack.class, C);
    assertEquals(C.withStatus(MemberStatus.DEAD, 1), toC.gossip().get(0));
    assertEquals(MemberStatus.DEAD, node.status("c"));

    // only c's own higher incarnation brings it back
    Member back = C.withStatus(MemberStatus.ALIVE, 2);
    node.inject(new SwimMessage.Ping(back, 4, "self", List.of()));
    node.next(SwimMessage.Ack.class, C);
    assertEquals(back, node.members().get("c"));
  }

  @Test
  void nodeToldItIsSuspectOrDeadRefutesWithAHigherIncarnation() {
    Node node = new Node();
    node.join(B);
    Member selfAsSeen = node.members().get("self");
    node.inject(
        new SwimMessage.Ping(
            B, 1, "self", List.of(selfAsSeen.withStatus(MemberStatus.SUSPECT, SELF_INCARNATION))));
    SwimMessage.Ack ack = node.next(SwimMessage.Ack.class, B);
    Member refuted = selfAsSeen.withStatus(MemberStatus.ALIVE, SELF_INCARNATION + 1);
    assertEquals(refuted, ack.from());
    assertTrue(ack.gossip().contains(refuted), "refutation is gossiped: " + ack.gossip());

    node.inject(
        new SwimMessage.Ping(
            B, 2, "self", List.of(selfAsSeen.withStatus(MemberStatus.DEAD, SELF_INCARNATION + 5))));
    assertEquals(SELF_INCARNATION + 6, node.next(SwimMessage.Ack.class, B).from().incarnation());
    assertEquals(MemberStatus.ALIVE, node.status("self"));
  }

  @Test
  void helperProbesTheTargetOfAPingReqAndRelaysItsAck() {
    Node node = new Node();
    node.join(B);
    node.join(C);
    node.inject(new SwimMessage.PingReq(B, 42, C, List.of()));
    SwimMessage.Ping ping = node.next(SwimMessage.Ping.class, C);
    assertEquals("c", ping.target());
    node.inject(new SwimMessage.Ack(C, ping.seq(), "c", List.of()));
    SwimMessage.Ack relayed = node.next(SwimMessage.Ack.class, B);
    assertEquals(42, relayed.seq());
    assertEquals("c", relayed.subject());
  }

  @Test
  void leftIsGossipedToMembersBeforeTheActorStops() {
    Node node = new Node();
    node.join(B);
    node.join(C);
    TestProbe<Done> done = testKit.createTestProbe();
    node.actor.tell(new MembershipActor.Leave(done.ref()));
    Set<InetSocketAddress> told = new java.util.HashSet<>();
    for (int i = 0; i < 2; i++) {
      Sent sent = node.next();
      told.add(sent.to());
      assertEquals(MemberStatus.LEFT, sent.message().from().status());
      assertEquals(SELF_INCARNATION, sent.message().from().incarnation());
    }
    assertEquals(Set.of(address(B), address(C)), told);
    // it waits for the datagrams to leave before it reports done and stops
    done.expectNoMessage(Duration.ofMillis(50));
    manualTime.timePasses(PING_TIMEOUT);
    done.expectMessage(Done.getInstance());
    done.expectTerminated(node.actor);
  }

  @Test
  void leftMemberIsAnnouncedAndNotProbed() {
    Node node = new Node();
    node.join(B);
    node.join(C);
    TestProbe<MemberEvent> events = testKit.createTestProbe();
    node.actor.tell(new MembershipActor.Subscribe(events.ref()));
    for (int i = 0; i < 3; i++) {
      events.expectMessageClass(MemberEvent.MemberJoined.class);
    }
    node.inject(new SwimMessage.Ping(C.withStatus(MemberStatus.LEFT, 1), 1, "self", List.of()));
    node.next(SwimMessage.Ack.class, C);
    assertEquals(
        new MemberEvent.MemberLeft(C.withStatus(MemberStatus.LEFT, 1), "c"),
        events.receiveMessage());
    SwimMessage.Ping ping = node.nextProbe();
    for (int i = 0; i < 3; i++) {
      assertEquals("b", ping.target());
      ping = node.endPeriod(ping, true);
    }
  }

  @Test
  void joinIsRetriedUntilASeedAnswers() {
    Node node = new Node("127.0.0.1:7101", "127.0.0.1:7000");
    node.next(SwimMessage.Join.class, B);
    manualTime.timePasses(SETTINGS.joinRetryInterval);
    node.next(SwimMessage.Join.class, B);
    node.inject(new SwimMessage.JoinReply(B, 1, List.of(B, C)));
    assertEquals(Set.of("b", "c", "self"), node.members().keySet());
    // joined: the next period probes instead of joining again
    manualTime.timePasses(SETTINGS.joinRetryInterval);
    assertInstanceOf(SwimMessage.Ping.class, node.next().message());
    node.udp.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void joinIsSentAgainToASeedThatIsNoLongerUp() {
    Node node = new Node("127.0.0.1:7101");
    node.next(SwimMessage.Join.class, B);
    node.inject(new SwimMessage.JoinReply(B, 1, List.of(B)));
    node.inject(new SwimMessage.Ping(C, 1, "self", List.of(B.withStatus(MemberStatus.DEAD, 1))));
    node.next(SwimMessage.Ack.class, C);
    assertEquals(MemberStatus.DEAD, node.status("b"));
    // b may be alive behind a healed partition, holding us dead: a JOIN makes both sides re-learn
    manualTime.timePasses(SETTINGS.joinRetryInterval);
    List<Sent> sent = List.of(node.next(), node.next());
    assertTrue(
        sent.stream()
            .anyMatch(s -> s.message() instanceof SwimMessage.Join && s.to().equals(address(B))),
        "JOIN to b among " + sent);
  }

  @Test
  void nodeDeclaredDeadLearnsItFromAnAckAndRejoinsAtAHigherIncarnation() {
    Node node = new Node();
    node.join(B);
    SwimMessage.Ping ping = node.nextProbe();
    Member selfAsSeen = node.members().get("self");
    // b answers, adding "you are dead" as it would for a node that was paused too long
    node.inject(
        new SwimMessage.Ack(
            B,
            ping.seq(),
            "b",
            List.of(selfAsSeen.withStatus(MemberStatus.DEAD, SELF_INCARNATION))));
    SwimMessage.Ping next = node.nextProbe();
    assertEquals(selfAsSeen.withStatus(MemberStatus.ALIVE, SELF_INCARNATION + 1), next.from());
    assertTrue(next.gossip().contains(next.from()), "the refutation is gossiped: " + next.gossip());
    assertEquals(MemberStatus.ALIVE, node.status("b"));
  }

  @Test
  void malformedOrForeignDatagramsAreDroppedAndTheNodeKeepsServing() {
    Node node = new Node();
    node.join(B);
    InetSocketAddress from = address(B);
    node.injectBytes(from, new byte[0]);
    node.injectBytes(
        from, "GET / HTTP/1.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    byte[] future = WireCodec.encode(new SwimMessage.Ping(B, 1, "self", List.of()));
    future[2] = 4;
    node.injectBytes(from, future);
    byte[] random = new byte[300];
    new Random(3).nextBytes(random);
    node.injectBytes(from, random);
    node.udp.expectNoMessage(Duration.ofMillis(50));

    node.inject(new SwimMessage.Ping(B, 9, "self", List.of()));
    assertEquals(9, node.next(SwimMessage.Ack.class, B).seq());
  }

  @Test
  void piggybackedGossipStaysWithinTheDatagramBound() {
    Node node = new Node();
    List<Member> many = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      many.add(peer("member-with-a-longish-name-" + i, 9000 + i));
    }
    // news, not a whole table (a JOIN reply's members are not gossiped on)
    node.inject(new SwimMessage.Ping(B, 2, "self", many));
    UdpTransport.Send send = node.udp.expectMessageClass(UdpTransport.Send.class);
    assertTrue(send.payload().size() <= SETTINGS.maxDatagramSize, "size " + send.payload().size());
    assertTrue(
        send.payload().size() > SETTINGS.maxDatagramSize - 100,
        "room left unused: " + send.payload().size());
  }
}
