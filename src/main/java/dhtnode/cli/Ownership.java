package dhtnode.cli;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Each member's effective share of the token space, as {@code nodetool status} shows it: the
 * fraction of all tokens for which the member is one of the N replicas. The ring's vnode token at
 * position i owns the arc (token[i-1], token[i]]; its replicas are the first N distinct members met
 * walking clockwise from i. With N replicas the shares add up to N (to 1 each when N = 1).
 */
final class Ownership {
  private static final BigInteger SPACE = BigInteger.ONE.shiftLeft(64);

  /** A vnode: its token and the member that owns it. */
  record VNode(long token, String member) {}

  private Ownership() {}

  /**
   * @param ring vnodes sorted by token, as {@code /cluster/ring} lists them
   */
  static Map<String, Double> effective(List<VNode> ring, int replicas) {
    Map<String, Double> share = new HashMap<>();
    if (ring.isEmpty()) {
      return share;
    }
    int members = (int) ring.stream().map(VNode::member).distinct().count();
    int n = Math.min(replicas, members);
    for (int i = 0; i < ring.size(); i++) {
      long from = ring.get((i - 1 + ring.size()) % ring.size()).token();
      long to = ring.get(i).token();
      double fraction = ring.size() == 1 ? 1.0 : arc(from, to);
      for (String member : replicasFrom(ring, i, n)) {
        share.merge(member, fraction, Double::sum);
      }
    }
    return share;
  }

  /**
   * The fraction of the 2^64 token space in the arc (from, to], wrapping past the largest token.
   */
  static double arc(long from, long to) {
    BigInteger size = BigInteger.valueOf(to).subtract(BigInteger.valueOf(from));
    if (size.signum() <= 0) {
      size = size.add(SPACE);
    }
    return size.doubleValue() / SPACE.doubleValue();
  }

  private static Set<String> replicasFrom(List<VNode> ring, int start, int n) {
    Set<String> found = new LinkedHashSet<>();
    for (int k = 0; k < ring.size() && found.size() < n; k++) {
      found.add(ring.get((start + k) % ring.size()).member());
    }
    return found;
  }

  /** The vnodes of a {@code /cluster/ring} document's {@code tokens} array. */
  static List<VNode> parse(com.fasterxml.jackson.databind.JsonNode tokens) {
    List<VNode> ring = new ArrayList<>();
    tokens.forEach(
        t ->
            ring.add(new VNode(Long.parseLong(t.path("token").asText()), t.path("node").asText())));
    ring.sort((a, b) -> Long.compare(a.token(), b.token()));
    return ring;
  }
}
