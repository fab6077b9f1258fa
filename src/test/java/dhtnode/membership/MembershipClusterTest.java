package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.FishingOutcomes;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dhtnode.metrics.Metrics;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three nodes, each its own ActorSystem with a real {@link UdpTransport} on a free loopback port,
 * in real time with short SWIM periods. A node "crashes" by having its traffic cut in both
 * directions (a switch between its membership actor and its transport), so it sends no LEFT.
 */
class MembershipClusterTest {
  private static final Duration PERIOD = Duration.ofMillis(200);
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final List<ActorTestKit> kits = new ArrayList<>();

  @AfterEach
  void shutdownAll() {
    kits.forEach(ActorTestKit::shutdownTestKit);
  }

  private static int freeUdpPort() throws IOException {
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Test switch: forwards between membership and transport, or drops all traffic while cut. */
  private enum Cut {
    CUT,
    RECONNECT
  }

  /** Sits between a membership actor and its real transport; drops everything while cut. */
  private static final class Line extends AbstractBehavior<Object> {
    private final ActorRef<UdpTransport.Command> transport;
    private final ActorRef<UdpTransport.Datagram> inbound;
    private ActorRef<UdpTransport.Datagram> listener;
    private boolean cut;

    static Behavior<Object> create(InetSocketAddress bind) {
      return Behaviors.setup(context -> new Line(context, bind));
    }

    private Line(ActorContext<Object> context, InetSocketAddress bind) {
      super(context);
      transport = UdpTransport.spawn(context, bind, "udp");
      inbound = context.messageAdapter(UdpTransport.Datagram.class, d -> d);
    }

    @Override
    public Receive<Object> createReceive() {
      return newReceiveBuilder()
          .onMessage(UdpTransport.Register.class, this::onRegister)
          .onMessage(UdpTransport.Send.class, this::onSend)
          .onMessage(UdpTransport.Datagram.class, this::onDatagram)
          .onMessage(Cut.class, this::onCut)
          .build();
    }

    private Behavior<Object> onRegister(UdpTransport.Register register) {
      listener = register.listener();
      transport.tell(new UdpTransport.Register(inbound));
      return this;
    }

    private Behavior<Object> onSend(UdpTransport.Send send) {
      if (!cut) {
        transport.tell(send);
      }
      return this;
    }

    private Behavior<Object> onDatagram(UdpTransport.Datagram datagram) {
      if (!cut && listener != null) {
        listener.tell(datagram);
      }
      return this;
    }

    private Behavior<Object> onCut(Cut command) {
      cut = command == Cut.CUT;
      return this;
    }
  }

  private final class Node {
    final String name;
    final ActorTestKit kit;
    final ActorRef<Object> line;
    final ActorRef<MembershipActor.Command> membership;

    Node(String name, int port, int seedPort) {
      this.name = name;
      Config config =
          ConfigFactory.parseString(
                  "akka.actor.provider = local\n"
                      + "dht.node { name = "
                      + name
                      + ", host = \"127.0.0.1\", cluster-port = "
                      + port
                      + ", http-port = "
                      + (port == 1 ? 2 : 1)
                      + ", seeds = [\"127.0.0.1:"
                      + seedPort
                      + "\"] }\n"
                      + "dht.membership { protocol-period = "
                      + PERIOD.toMillis()
                      + "ms, ping-timeout = 60ms,"
                      + " join-retry-interval = 100ms }")
              .withFallback(ConfigFactory.load());
      kit = ActorTestKit.create(name, config);
      kits.add(kit);
      LocalNode node =
          new LocalNode(
              name,
              "127.0.0.1",
              port,
              port == 1 ? 2 : 1,
              List.of(new InetSocketAddress("127.0.0.1", seedPort)));
      MembershipSettings settings = MembershipSettings.from(config);
      line = kit.spawn(Line.create(new InetSocketAddress("127.0.0.1", port)), "line");
      membership =
          kit.spawn(
              MembershipActor.create(
                  node,
                  settings,
                  line.narrow(),
                  new Random(),
                  System.currentTimeMillis(),
                  true,
                  new Metrics(name)),
              "membership");
    }

    Map<String, MemberStatus> view() {
      TestProbe<MembershipActor.Members> reply = kit.createTestProbe();
      membership.tell(new MembershipActor.GetMembers(reply.ref()));
      Map<String, MemberStatus> view = new TreeMap<>();
      reply.receiveMessage().members().forEach(m -> view.put(m.name(), m.status()));
      return view;
    }

    Member member(String name) {
      TestProbe<MembershipActor.Members> reply = kit.createTestProbe();
      membership.tell(new MembershipActor.GetMembers(reply.ref()));
      return reply.receiveMessage().members().stream()
          .filter(m -> m.name().equals(name))
          .findFirst()
          .orElseThrow();
    }

    void awaitView(Map<String, MemberStatus> expected) {
      kit.createTestProbe()
          .awaitAssert(
              DEADLINE,
              Duration.ofMillis(50),
              () -> {
                assertEquals(expected, view(), "view of " + name);
                return null;
              });
    }
  }

  @Test
  void nodesStartedInAnyOrderConvergeDetectACrashHealAndSeeAGracefulLeave() throws IOException {
    int p1 = freeUdpPort();
    int p2 = freeUdpPort();
    int p3 = freeUdpPort();
    // the seed comes up last: the others must keep retrying their JOIN
    Node n3 = new Node("n3", p3, p1);
    Node n2 = new Node("n2", p2, p1);
    Node n1 = new Node("n1", p1, p1);

    Map<String, MemberStatus> allAlive =
        Map.of("n1", MemberStatus.ALIVE, "n2", MemberStatus.ALIVE, "n3", MemberStatus.ALIVE);
    for (Node n : List.of(n1, n2, n3)) {
      n.awaitView(allAlive);
    }
    long n3Incarnation = n1.member("n3").incarnation();

    // n3 falls silent without a word: the others must conclude DEAD, not LEFT
    TestProbe<MemberEvent> events = n1.kit.createTestProbe();
    n1.membership.tell(new MembershipActor.Subscribe(events.ref()));
    n3.line.tell(Cut.CUT);
    Map<String, MemberStatus> n3Dead =
        Map.of("n1", MemberStatus.ALIVE, "n2", MemberStatus.ALIVE, "n3", MemberStatus.DEAD);
    n1.awaitView(n3Dead);
    n2.awaitView(n3Dead);
    MemberEvent.MemberDied died =
        events
            .fishForMessage(
                DEADLINE,
                e ->
                    e instanceof MemberEvent.MemberDied
                        ? FishingOutcomes.complete()
                        : FishingOutcomes.continueAndIgnore())
            .stream()
            .map(MemberEvent.MemberDied.class::cast)
            .findFirst()
            .orElseThrow();
    assertEquals("n3", died.member().name());

    // n3 comes back (as after SIGCONT, or a healed partition): it learns it was declared dead,
    // refutes with a higher incarnation, and all three are one cluster again
    n3.line.tell(Cut.RECONNECT);
    for (Node n : List.of(n1, n2, n3)) {
      n.awaitView(allAlive);
    }
    assertTrue(
        n1.member("n3").incarnation() > n3Incarnation, "n3 came back at a higher incarnation");

    // n2 stops gracefully: coordinated shutdown gossips LEFT before the system goes down
    n2.kit.shutdownTestKit();
    Map<String, MemberStatus> n2Left =
        Map.of("n1", MemberStatus.ALIVE, "n2", MemberStatus.LEFT, "n3", MemberStatus.ALIVE);
    n1.awaitView(n2Left);
    n3.awaitView(n2Left);
  }

  @Test
  void productionActorBindsItsClusterPortAndAnswersAJoin() throws Exception {
    int port = freeUdpPort();
    Config config =
        ConfigFactory.parseString(
                "akka.actor.provider = local\n"
                    + "dht.node { name = solo, host = \"127.0.0.1\", cluster-port = "
                    + port
                    + ", http-port = 1, seeds = [\"127.0.0.1:"
                    + port
                    + "\"] }")
            .withFallback(ConfigFactory.load());
    ActorTestKit kit = ActorTestKit.create("solo", config);
    kits.add(kit);
    LocalNode node =
        new LocalNode(
            "solo", "127.0.0.1", port, 1, List.of(new InetSocketAddress("127.0.0.1", port)));
    kit.spawn(
        MembershipActor.create(node, MembershipSettings.from(config), new Metrics("test")),
        "membership");

    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      socket.setSoTimeout(200);
      Member joiner =
          new Member("joiner", "127.0.0.1", socket.getLocalPort(), 2, MemberStatus.ALIVE, 1);
      byte[] join = WireCodec.encode(new SwimMessage.Join(joiner, 5, List.of()));
      java.net.DatagramPacket in = new java.net.DatagramPacket(new byte[65_536], 65_536);
      // the socket binds asynchronously: resend until it answers, within the deadline
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      SwimMessage reply = null;
      while (reply == null && System.nanoTime() < deadline) {
        socket.send(
            new java.net.DatagramPacket(
                join, join.length, new InetSocketAddress("127.0.0.1", port)));
        try {
          socket.receive(in);
          reply = WireCodec.decode(java.util.Arrays.copyOf(in.getData(), in.getLength()));
        } catch (java.net.SocketTimeoutException notYet) {
          // not bound yet
        }
      }
      SwimMessage.JoinReply joinReply = (SwimMessage.JoinReply) reply;
      assertEquals(5, joinReply.seq());
      assertEquals(
          List.of("joiner", "solo"), joinReply.gossip().stream().map(Member::name).toList());
    }
  }
}
