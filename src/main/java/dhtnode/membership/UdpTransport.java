package dhtnode.membership;

import akka.actor.AbstractActor;
import akka.actor.ActorRef;
import akka.actor.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.event.Logging;
import akka.event.LoggingAdapter;
import akka.io.Udp;
import akka.io.UdpMessage;
import akka.util.ByteString;
import java.net.InetSocketAddress;

/**
 * Bridges Akka IO UDP (a classic API) to the typed membership actor: binds one UDP socket, sends
 * each {@link Send} as one datagram and delivers every received datagram as a {@link Datagram} to
 * the listener named by the latest {@link Register}. The membership actor sees only a typed
 * {@code ActorRef<UdpTransport.Command>}, so a test can put a probe in its place.
 *
 * <p>If the socket cannot be bound the transport logs an error and stops; the membership actor
 * watches it and stops too. Datagrams to send before the socket is bound are dropped: SWIM
 * retries every period anyway.
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

  private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
  private final InetSocketAddress bindAddress;
  private akka.actor.typed.ActorRef<Datagram> listener;
  private ActorRef socket;

  /** Spawns a transport bound to {@code bindAddress} as a child of a typed actor. */
  public static akka.actor.typed.ActorRef<Command> spawn(
      akka.actor.typed.javadsl.ActorContext<?> context, InetSocketAddress bindAddress, String name) {
    return Adapter.toTyped(Adapter.actorOf(context, props(bindAddress), name));
  }

  /** As {@link #spawn(akka.actor.typed.javadsl.ActorContext, InetSocketAddress, String)}, on the dispatcher at config path {@code dispatcher}. */
  public static akka.actor.typed.ActorRef<Command> spawn(
      akka.actor.typed.javadsl.ActorContext<?> context, InetSocketAddress bindAddress, String name, String dispatcher) {
    return Adapter.toTyped(Adapter.actorOf(context, props(bindAddress).withDispatcher(dispatcher), name));
  }

  public static Props props(InetSocketAddress bindAddress) {
    return Props.create(UdpTransport.class, () -> new UdpTransport(bindAddress));
  }

  private UdpTransport(InetSocketAddress bindAddress) {
    this.bindAddress = bindAddress;
  }

  @Override
  public void preStart() {
    ActorRef manager = Udp.get(getContext().getSystem()).getManager();
    manager.tell(UdpMessage.bind(getSelf(), bindAddress), getSelf());
  }

  @Override
  public void postStop() {
    if (socket != null) {
      socket.tell(UdpMessage.unbind(), getSelf());
    }
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(Udp.Bound.class, this::onBound)
        .match(Udp.CommandFailed.class, this::onBindFailed)
        .match(Register.class, this::onRegister)
        .match(Send.class, this::onSendBeforeBound)
        .build();
  }

  private Receive bound() {
    return receiveBuilder()
        .match(Udp.Received.class, this::onReceived)
        .match(Send.class, this::onSend)
        .match(Register.class, this::onRegister)
        .match(Udp.CommandFailed.class, this::onSendFailed)
        .match(Udp.Unbound.class, this::onUnbound)
        .build();
  }

  private void onBound(Udp.Bound bound) {
    socket = getSender();
    log.debug("UDP bound on {}", bound.localAddress());
    getContext().become(bound());
  }

  private void onBindFailed(Udp.CommandFailed failed) {
    log.error("cannot bind UDP on {}: {}", bindAddress, failed);
    getContext().stop(getSelf());
  }

  private void onRegister(Register register) {
    listener = register.listener();
  }

  private void onSendBeforeBound(Send send) {
    log.debug("UDP not bound yet, dropping datagram to {}", send.to());
  }

  private void onReceived(Udp.Received received) {
    if (listener != null) {
      listener.tell(new Datagram(received.sender(), received.data()));
    }
  }

  private void onSend(Send send) {
    socket.tell(UdpMessage.send(send.payload(), send.to()), getSelf());
  }

  private void onSendFailed(Udp.CommandFailed failed) {
    // a lost datagram is what SWIM tolerates, but one that cannot even be sent (too large, no
    // route, buffer full) is a fault someone should see
    log.warning("UDP datagram could not be sent: {}", failed);
  }

  private void onUnbound(Udp.Unbound unbound) {
    getContext().stop(getSelf());
  }
}
