package dhtnode.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.storage.StorageActor;
import dhtnode.storage.StorageActor.Reply;
import dhtnode.storage.StorageActor.TaggedReply;

/**
 * The one actor per node that other nodes' storage actors answer: the {@code replyTo} of every
 * {@link StorageActor.Get} and {@link StorageActor.Put} a coordinator here sends to a remote
 * replica. Its path is the same in every request, so the replica resolves it from Akka's cache of
 * resolved refs instead of parsing a new path per request, and the reply's recipient is found in
 * Artery's cache when it comes back. It hands each reply to the coordinator registered under the
 * reply's request id in {@link PendingRequests}, and drops a reply nobody waits for any more (its
 * coordinator answered, timed out or failed, and removed itself) with a DEBUG line at most: no dead
 * letter. Its protocol is the storage's replies; it holds no state of its own and never blocks.
 */
public final class ReplyRouter extends AbstractBehavior<Reply> {

  /** The name it is spawned under, next to {@code storage}. */
  public static final String NAME = "replies";

  public static Behavior<Reply> create(PendingRequests pending) {
    return Behaviors.setup(context -> new ReplyRouter(context, pending));
  }

  private final PendingRequests pending;

  private ReplyRouter(ActorContext<Reply> context, PendingRequests pending) {
    super(context);
    this.pending = pending;
  }

  @Override
  public Receive<Reply> createReceive() {
    return newReceiveBuilder().onMessage(Reply.class, this::onReply).build();
  }

  private Behavior<Reply> onReply(Reply reply) {
    long request = reply instanceof TaggedReply tagged ? tagged.request() : PendingRequests.NONE;
    ActorRef<Reply> coordinator = pending.recipient(request);
    if (coordinator != null) {
      coordinator.tell(reply);
    } else if (getContext().getLog().isDebugEnabled()) {
      getContext()
          .getLog()
          .debug("dropping a reply to request {}, which nobody waits for: {}", request, reply);
    }
    return this;
  }
}
