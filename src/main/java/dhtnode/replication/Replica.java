package dhtnode.replication;

import akka.actor.typed.ActorRef;
import dhtnode.storage.StorageActor;
import java.util.Objects;

/**
 * One replica of a key as the coordinator sees it: the node's name (what error messages and quorum
 * reports name), its storage actor, local or resolved over remoting, and whether that actor is on
 * another node (then its replies cross the wire, so they are routed by request id, see {@link
 * ReplyRouter}). The caller resolves the ref once per ring snapshot, never per request.
 */
public record Replica(String node, ActorRef<StorageActor.Command> storage, boolean remote) {
  public Replica {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(storage, "storage");
  }

  /** Remote when the ref's address names a host: a ref resolved over remoting. */
  public Replica(String node, ActorRef<StorageActor.Command> storage) {
    this(node, storage, !storage.path().address().hasLocalScope());
  }
}
