package dhtnode.ring;

/**
 * One published ring and its epoch. Epochs grow by one with every change of the member set on
 * this node, so a larger epoch is always the newer ring here; epochs of different nodes are not
 * comparable (each counts its own changes), rings built from the same members are equal.
 * Epoch 0 is the empty ring a {@link RingView} holds before its {@link RingActor} started.
 */
public record RingSnapshot(long epoch, HashRing ring) {}
