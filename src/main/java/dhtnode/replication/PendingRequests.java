package dhtnode.replication;

import akka.actor.typed.ActorRef;
import dhtnode.storage.StorageActor.Reply;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This node's coordinators that wait for replies from other nodes, by request id: the table the
 * {@link ReplyRouter} reads to hand each remote reply to its coordinator. A coordinator adds itself
 * before its first remote request and removes itself when it stops, however it stops, so the table
 * holds live coordinators only. Ids come from one counter and are never reused while the process
 * lives (a long does not wrap), so a late reply can never reach a later coordinator. Thread-safe
 * and lock-free: coordinators add and remove themselves while the router reads.
 */
public final class PendingRequests {
  /** The request id of a message sent without one; never registered, so never routed. */
  public static final long NONE = 0;

  private final AtomicLong ids = new AtomicLong(NONE);
  private final Map<Long, ActorRef<Reply>> waiting = new ConcurrentHashMap<>();

  /** Registers {@code replies} as the recipient of replies to a new request id, and returns it. */
  public long add(ActorRef<Reply> replies) {
    long id = ids.incrementAndGet();
    waiting.put(id, replies);
    return id;
  }

  /** Replies to {@code id} find no one from now on. */
  public void remove(long id) {
    waiting.remove(id);
  }

  /** Where replies to {@code id} go, or null when nobody waits for them (any more). */
  public ActorRef<Reply> recipient(long id) {
    return waiting.get(id);
  }

  /** How many requests are registered: coordinators alive that sent to another node. */
  public int size() {
    return waiting.size();
  }
}
