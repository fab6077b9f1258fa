package dhtnode.replication;

import java.util.List;

/**
 * Where a key lives at this node's current ring epoch: its replicas and the sets a write must reach
 * (see {@link Placement}), only its own (no sloppy quorum).
 */
@FunctionalInterface
public interface ReplicaLocator {
  Placement placementFor(String key);

  /** Always {@code replicas}, one write set, at epoch 0: a node without a ring (tools, tests). */
  static ReplicaLocator fixed(List<Replica> replicas) {
    Placement placement = Placement.stable(0, replicas);
    return key -> placement;
  }
}
