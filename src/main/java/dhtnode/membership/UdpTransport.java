package dhtnode.membership;

import akka.actor.AbstractActor;
import akka.actor.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.event.Logging;
import akka.event.LoggingAdapter;
import akka.util.ByteString;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

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
 * <p>A {@link Send} to an unresolved address (a seed or member given by host name) is looked up
 * first, off this actor's thread (a lookup may block for seconds, and SWIM's dispatcher must not),
 * and sent when the answer comes: every send looks the name up again, so a name that moves to
 * another machine is followed (through the JVM's resolver cache, {@code networkaddress.cache.ttl},
 * 30 s by default). A name that does not resolve is a failed send, reported like the others.
 *
 * <p>If the channel cannot be bound the transport logs an error and stops; the membership actor
 * watches it and stops too. Closing the channel at stop ends the receiving thread.
 */
public final class UdpTransport extends AbstractActor {

  /** What the membership actor sends to its transport. */
  public sealed interface Command {}

  /** Send {@code payload} as one datagram to {@code to}. */
  public record Send(InetSocketAddress to, ByteString payload) implements Command {}

  /** A lookup of {@code to}'s host failed: the datagram is lost. */
  private record LookupFailed(InetSocketAddress to, String error) implements Command {}

  /** Looks a host name up; {@link InetAddress#getByName} in production. */
  @FunctionalInterface
  public interface Resolver {
    InetAddress resolve(String host) throws UnknownHostException;
  }

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
  private final Resolver resolver;
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
    return props(bindAddress, InetAddress::getByName);
  }

  /** A transport that looks host names up with {@code resolver}. */
  public static Props props(InetSocketAddress bindAddress, Resolver resolver) {
    return Props.create(UdpTransport.class, () -> new UdpTransport(bindAddress, resolver));
  }

  private UdpTransport(InetSocketAddress bindAddress, Resolver resolver) {
    this.bindAddress = bindAddress;
    this.resolver = resolver;
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
        .match(LookupFailed.class, this::onLookupFailed)
        .match(Register.class, register -> listener = register.listener())
        .build();
  }

  private void onSend(Send send) {
    if (channel == null || !channel.isOpen()) {
      return;
    }
    if (send.to().isUnresolved()) {
      resolveThenSend(send);
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

  /** Looks the host up on the blocking-IO dispatcher, then sends to what it resolved to. */
  private void resolveThenSend(Send send) {
    InetSocketAddress to = send.to();
    akka.actor.ActorRef self = getSelf();
    Executor lookups =
        getContext().getSystem().dispatchers().lookup("akka.actor.default-blocking-io-dispatcher");
    CompletableFuture.runAsync(
        () -> {
          Command next;
          try {
            InetAddress address = resolver.resolve(to.getHostString());
            next = new Send(new InetSocketAddress(address, to.getPort()), send.payload());
          } catch (IOException | RuntimeException e) {
            next = new LookupFailed(to, "cannot resolve " + to.getHostString() + ": " + e);
          }
          self.tell(next, akka.actor.ActorRef.noSender());
        },
        lookups);
  }

  private void onLookupFailed(LookupFailed failed) {
    String warning = failures.failed(failed.to(), failed.error());
    if (warning != null) {
      log.warning(warning);
    } else {
      log.debug("UDP send to {} failed: {}", failed.to(), failed.error());
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
