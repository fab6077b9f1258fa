package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.util.ByteString;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The UDP transport over a real socket. A datagram the kernel refuses to send (a blackhole or
 * prohibit route, a firewall's EPERM, a bad address) makes Akka IO stop the socket's actor; SWIM
 * must keep running all the same, or the node holds every member DEAD for good.
 */
class UdpTransportTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void cleanup() {
    testKit.shutdownTestKit();
  }

  @Test
  void aSendTheKernelRefusesDoesNotStopTheTransportFromReceivingOrSending() throws Exception {
    try (DatagramSocket peer = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        DatagramSocket probePort = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      int port = probePort.getLocalPort();
      probePort.close(); // a free port for the transport to bind
      InetSocketAddress bind = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
      // spawned as the membership actor spawns it: a classic child of a typed actor
      ActorRef<UdpTransport.Command> transport =
          testKit.spawn(
              Behaviors.<UdpTransport.Command>setup(
                  context -> {
                    ActorRef<UdpTransport.Command> udp = UdpTransport.spawn(context, bind, "udp");
                    return Behaviors.receiveMessage(
                        command -> {
                          udp.tell(command);
                          return Behaviors.same();
                        });
                  }));
      TestProbe<UdpTransport.Datagram> listener = testKit.createTestProbe();
      transport.tell(new UdpTransport.Register(listener.ref()));
      assertReceives(peer, bind, listener, "before");

      // port 0 is refused by the kernel (and by the JDK): the send throws
      transport.tell(
          new UdpTransport.Send(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
              ByteString.fromString("refused")));

      peer.setSoTimeout(200);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      String got = null;
      while (got == null && System.nanoTime() < deadline) {
        // resent until it arrives: a datagram sent while the socket is rebound is dropped, as SWIM
        // expects
        transport.tell(
            new UdpTransport.Send(
                (InetSocketAddress) peer.getLocalSocketAddress(), ByteString.fromString("out")));
        DatagramPacket packet = new DatagramPacket(new byte[64], 64);
        try {
          peer.receive(packet);
          got = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
        } catch (SocketTimeoutException e) {
          // not yet
        }
      }
      assertEquals("out", got, "the transport still sends after a refused send");
      assertReceives(peer, bind, listener, "after");
    }
  }

  /** Sends datagrams to the transport until the listener gets one (deadline 10 s). */
  private static void assertReceives(
      DatagramSocket peer,
      InetSocketAddress to,
      TestProbe<UdpTransport.Datagram> listener,
      String text)
      throws Exception {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      peer.send(new DatagramPacket(bytes, bytes.length, to));
      UdpTransport.Datagram d;
      try {
        d = listener.receiveMessage(Duration.ofMillis(200));
      } catch (AssertionError e) {
        continue; // nothing yet: the socket may still be binding
      }
      assertEquals(text, d.payload().utf8String());
      return;
    }
    assertTrue(false, "the transport delivers datagrams " + text + " a refused send");
  }

  @Test
  void aHostNameIsLookedUpAtEverySendAndFollowedToItsNewAddress() throws Exception {
    InetAddress first = InetAddress.getByName("127.0.0.1");
    InetAddress second = InetAddress.getByName("127.0.0.2");
    try (DatagramSocket a = new DatagramSocket(0, first)) {
      int port = a.getLocalPort();
      try (DatagramSocket b = new DatagramSocket(port, second)) {
        a.setSoTimeout(5000);
        b.setSoTimeout(5000);
        java.util.concurrent.atomic.AtomicInteger lookups =
            new java.util.concurrent.atomic.AtomicInteger();
        // the name points at the first address, then (as after a DNS change) at the second;
        // "nowhere.test" does not resolve at all
        UdpTransport.Resolver resolver =
            host -> {
              if (!host.equals("seed.test")) {
                throw new java.net.UnknownHostException(host);
              }
              return lookups.incrementAndGet() == 1 ? first : second;
            };
        ActorRef<UdpTransport.Command> transport =
            testKit.spawn(
                Behaviors.<UdpTransport.Command>setup(
                    context -> {
                      ActorRef<UdpTransport.Command> udp =
                          akka.actor.typed.javadsl.Adapter.toTyped(
                              akka.actor.typed.javadsl.Adapter.actorOf(
                                  context,
                                  UdpTransport.props(new InetSocketAddress(first, 0), resolver),
                                  "udp"));
                      return Behaviors.receiveMessage(
                          command -> {
                            udp.tell(command);
                            return Behaviors.same();
                          });
                    }));
        InetSocketAddress seed = InetSocketAddress.createUnresolved("seed.test", port);
        transport.tell(
            new UdpTransport.Send(
                InetSocketAddress.createUnresolved("nowhere.test", port),
                ByteString.fromString("lost")));
        transport.tell(new UdpTransport.Send(seed, ByteString.fromString("join-1")));
        assertEquals("join-1", receive(a));
        transport.tell(new UdpTransport.Send(seed, ByteString.fromString("join-2")));
        assertEquals("join-2", receive(b), "the second send looked the name up again");
        assertEquals(2, lookups.get());
      }
    }
  }

  private static String receive(DatagramSocket socket) throws Exception {
    DatagramPacket packet = new DatagramPacket(new byte[64], 64);
    socket.receive(packet);
    return new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
  }
}
