package dhtnode.stabilization;

import dhtnode.keyspace.TokenRange;
import dhtnode.keyspace.TokenRangeSet;
import dhtnode.ring.LaterEpochs;
import dhtnode.ring.RingSnapshot;
import dhtnode.storage.ReplicaState;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * What this node may answer for, read on every replica request by the local StorageActor and by the
 * Stabilizer serving its peers: its ring epoch and the ranges it replicates come from the current
 * ring snapshot (the node's {@code RingView}); the ranges it must not answer reads for yet (it
 * started with an empty data directory while already a replica, and has not refilled them) are
 * published by the {@link StabilizationPlanner}. Lock-free: volatile references to immutable
 * values.
 */
public final class ReplicaStatus implements ReplicaState {
  static final TokenRangeSet EVERYTHING = TokenRangeSet.empty().plus(TokenRange.full());

  private final String self;
  private final Supplier<RingSnapshot> view;
  private volatile TokenRangeSet recovering;
  private volatile LongConsumer catchUp = epoch -> {};
  private final LaterEpochs hinted = new LaterEpochs();

  /**
   * @param view the current ring snapshot, e.g. {@code ringView::current}
   * @param startedEmpty whether this node's data directory was empty when it started
   */
  public ReplicaStatus(String self, Supplier<RingSnapshot> view, boolean startedEmpty) {
    this.self = self;
    this.view = view;
    this.recovering = startedEmpty ? EVERYTHING : TokenRangeSet.empty();
  }

  @Override
  public long epoch() {
    return view.get().epoch();
  }

  @Override
  public boolean readPending(long token) {
    return recovering.contains(token);
  }

  @Override
  public boolean holds(long token) {
    return view.get().holds(self, token);
  }

  @Override
  public void behind(long epoch) {
    if (hinted.isNew(epoch)) {
      catchUp.accept(epoch);
    }
  }

  /** Where {@link #behind} hints go: the ring, which asks a peer for the later epoch. */
  public void onBehind(LongConsumer hint) {
    catchUp = hint;
  }

  /** Whether any of {@code range} has not been refilled since this node lost its data. */
  public boolean recovering(TokenRange range) {
    return recovering.intersects(range);
  }

  TokenRangeSet recovering() {
    return recovering;
  }

  void setRecovering(TokenRangeSet ranges) {
    recovering = ranges;
  }
}
