package dhtnode.replication;

import java.util.List;

/** Where a key lives: its replicas in preference order, only its own (no sloppy quorum). */
@FunctionalInterface
public interface ReplicaLocator {
  List<Replica> replicasFor(String key);
}
