package dhtnode.membership;

import akka.actor.AbstractActor;
import akka.actor.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.event.Logging;
import akka.event.LoggingAdapter;
import akka.util.ByteString;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;

/**
 * The UDP socket of the membership actor: binds one datagram channel, sends each {@link Send} as
 * one datagram and delivers every received datagram as a {@link Datagram} to the listener named by
 * the latest {@link Register}. The membership actor sees only a typed {@code
 * ActorRef<UdpTransport.Command>}, so a test can put a probe in its place.
 *
 * <p>A plain NIO channel, not Akka IO UDP: Akka IO stops the socket's actor when a send throws (the
 * kernel refuses a datagram to an address behind a blackhole or prohibit route, a firewall rule
 * answering EPERM, a bad address) and leaves the port bound, so the node could neither send nor
 * receive again nor rebind: it held every member DEAD for good. Here a refused send is one lost
 * datagram, which SWIM tolerates; it is a WARN line at most once a minute per destination ({@link
 * SendFailures}), DEBUG otherwise. Receiving is a blocking loop on a dedicated daemon thread (never
 * an Akka dispatcher thread); a send is one {@code send} call, which for UDP waits at most for
 * socket buffer space.
 *
 * <p>If the channel cannot be bound the transport logs an error and stops; the membership actor
 * watches it and stops too. Closing the channel at stop ends the receiving thread.
 */
public final class UdpTransport extends AbstractActor {

  /** What the membership actor sends to its transport. */
  public sealed interface Command {}

  /** Send {@code payload} as one datagram to {@code to}. */
  public record Send(InetSocketAddress to, ByteString payload) implements Command {}

  /** Deliver received datagrams to {@code listener} from now on. */
  public record Register(akka.actor.typed.ActorRef<Datagram> listener) implements Command {}

  /** One datagram received from {@code from}. */
  public record Datagram(InetSocketAddress from, ByteString payload) {}

  /** Largest datagram received whole (UDP's limit); SWIM's are far smaller. */
  private static final int MAX_DATAGRAM = 65_507;

  /** How often a destination that keeps failing is reported again. */
  static final java.time.Duration WARN_INTERVAL = java.time.Duration.ofMinutes(1);

  private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
  private final InetSocketAddress bindAddress;
  private volatile akka.actor.typed.ActorRef<Datagram> listener;
  private DatagramChannel channel;

  /** Which failed sends are a WARN: at most one per destination per minute. */
  private final SendFailures failures = new SendFailures(WARN_INTERVAL, 1024, System::nanoTime);

  /** Spawns a transport bound to {@code bindAddress} as a child of a typed actor. */
  public static akka.actor.typed.ActorRef<Command> spawn(
      akka.actor.typed.javadsl.ActorContext<?> context,
      InetSocketAddress bindAddress,
      String name) {
    return Adapter.toTyped(Adapter.actorOf(context, props(bindAddress), name));
  }

  /**
   * As {@link #spawn(akka.actor.typed.javadsl.ActorContext, InetSocketAddress, String)}, on the
   * dispatcher at config path {@code dispatcher}.
   */
  public static akka.actor.typed.ActorRef<Command> spawn(
      akka.actor.typed.javadsl.ActorContext<?> context,
      InetSocketAddress bindAddress,
      String name,
      String dispatcher) {
    return Adapter.toTyped(
        Adapter.actorOf(context, props(bindAddress).withDispatcher(dispatcher), name));
  }

  public static Props props(InetSocketAddress bindAddress) {
    return Props.create(UdpTransport.class, () -> new UdpTransport(bindAddress));
  }

  private UdpTransport(InetSocketAddress bindAddress) {
    this.bindAddress = bindAddress;
  }

  @Override
  public void preStart() {
    try {
      channel = DatagramChannel.open();
      channel.bind(bindAddress);
    } catch (IOException e) {
      log.error("cannot bind UDP on {}: {}", bindAddress, e.toString());
      closeQuietly();
      getContext().stop(getSelf());
      return;
    }
    log.debug("UDP bound on {}", bindAddress);
    Thread receiver =
        new Thread(() -> receiveLoop(channel), "udp-receive-" + bindAddress.getPort());
    receiver.setDaemon(true);
    receiver.start();
  }

  @Override
  public void postStop() {
    closeQuietly();
  }

  private void closeQuietly() {
    if (channel != null) {
      try {
        channel.close(); // wakes the receiving thread with ClosedChannelException
      } catch (IOException e) {
        log.debug("closing UDP channel: {}", e.toString());
      }
    }
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(Send.class, this::onSend)
        .match(Register.class, register -> listener = register.listener())
        .build();
  }

  private void onSend(Send send) {
    if (channel == null || !channel.isOpen()) {
      return;
    }
    try {
      // the channel is in blocking mode for the receiving thread; a UDP send only waits for
      // socket buffer space, which SWIM's few small datagrams never exhaust
      channel.send(send.payload().asByteBuffer(), send.to());
      String recovered = failures.sent(send.to());
      if (recovered != null) {
        log.info(recovered);
      }
    } catch (ClosedChannelException e) {
      // stopping
    } catch (IOException | RuntimeException e) {
      // refused by the kernel (route, firewall, bad address): a lost datagram, which SWIM
      // tolerates, but one that cannot even be sent is a fault someone should see
      String warning = failures.failed(send.to(), e.toString());
      if (warning != null) {
        log.warning(warning);
      } else {
        log.debug("UDP send to {} failed: {}", send.to(), e.toString());
      }
    }
  }

  private void receiveLoop(DatagramChannel from) {
    ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM);
    while (from.isOpen()) {
      try {
        buffer.clear();
        SocketAddress sender = from.receive(buffer);
        buffer.flip();
        akka.actor.typed.ActorRef<Datagram> to = listener;
        if (to != null && sender instanceof InetSocketAddress address) {
          to.tell(new Datagram(address, ByteString.fromByteBuffer(buffer)));
        }
      } catch (ClosedChannelException e) {
        return; // closed at stop
      } catch (IOException e) {
        // e.g. an ICMP error reported on the socket: nothing was received, keep receiving
        log.debug("UDP receive on {} failed: {}", bindAddress, e.toString());
      }
    }
  }
}
