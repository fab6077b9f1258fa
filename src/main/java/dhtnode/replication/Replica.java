package dhtnode.replication;

import akka.actor.typed.ActorRef;
import dhtnode.storage.StorageActor;
import java.util.Objects;

/**
 * One replica of a key as the coordinator sees it: the node's name (what error messages and quorum
 * reports name) and its storage actor, local or resolved over remoting. The caller resolves the ref
 * once per ring snapshot, never per request.
 */
public record Replica(String node, ActorRef<StorageActor.Command> storage) {
  public Replica {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(storage, "storage");
  }
}
