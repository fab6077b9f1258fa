package dhtnode.common;

/** The consistency levels a request may ask for: how many of a key's replicas must answer. */
public enum Consistency {
  ONE,
  QUORUM,
  ALL
}
