package dhtnode.ring;

import dhtnode.keyspace.Murmur3;
import dhtnode.keyspace.Ranges;
import dhtnode.keyspace.TokenRange;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * An immutable consistent-hashing ring: each member owns {@code vnodes} tokens, {@code
 * Murmur3.hash64(UTF-8 of name + "#" + i)}, so any node builds the identical ring from the same
 * member names, whatever order they arrive in, with nothing to gossip. Vnode position {@code i}
 * owns the arc {@code (token[i-1], token[i]]}; a key belongs to the first vnode whose token is
 * {@code >=} the key's token, wrapping past the end.
 *
 * <p>Guarantees: the preference list of a token is the first {@code N = min(replicationFactor,
 * members)} distinct members clockwise from it, in that order; equal tokens are ordered by member
 * name, so even a hash collision resolves identically everywhere. Lookups are a binary search and
 * allocate nothing: every vnode position's preference list is computed once, here, and shared.
 */
public final class HashRing {

  private static final double TWO_TO_64 = 0x1p64;

  private final int vnodes;
  private final int replicationFactor;
  private final List<String> members;
  // parallel arrays sorted by (token, owner): the search key, the owner, the owner's replicas
  private final long[] tokens;
  private final String[] owners;
  private final List<String>[] preferences;

  private HashRing(List<String> members, VNode[] nodes, int vnodes, int replicationFactor) {
    if (vnodes < 1) {
      throw new IllegalArgumentException("vnodes must be at least 1, was " + vnodes);
    }
    if (replicationFactor < 1) {
      throw new IllegalArgumentException(
          "replicationFactor must be at least 1, was " + replicationFactor);
    }
    this.vnodes = vnodes;
    this.replicationFactor = replicationFactor;
    this.members = members;
    Arrays.sort(nodes);
    tokens = new long[nodes.length];
    owners = new String[nodes.length];
    for (int i = 0; i < nodes.length; i++) {
      tokens[i] = nodes[i].token;
      owners[i] = nodes[i].owner;
    }
    preferences =
        computePreferences(tokens.length, owners, Math.min(replicationFactor, members.size()));
  }

  /** A ring of {@code members} (duplicates ignored), each with {@code vnodes} tokens. */
  public static HashRing of(Collection<String> members, int vnodes, int replicationFactor) {
    List<String> names = sortedDistinct(members);
    VNode[] nodes = new VNode[names.size() * Math.max(vnodes, 0)];
    int at = 0;
    for (String name : names) {
      for (int i = 0; i < vnodes; i++) {
        nodes[at++] = new VNode(vnodeToken(name, i), name);
      }
    }
    return new HashRing(names, nodes, vnodes, replicationFactor);
  }

  /**
   * A ring with explicit tokens per member, so tests can build what hashing almost never produces
   * (equal tokens). {@code vnodes()} reports the largest token count.
   */
  static HashRing withTokens(Map<String, long[]> tokensByMember, int replicationFactor) {
    List<String> names = sortedDistinct(tokensByMember.keySet());
    List<VNode> nodes = new ArrayList<>();
    int most = 1;
    for (String name : names) {
      long[] own = tokensByMember.get(name);
      most = Math.max(most, own.length);
      for (long token : own) {
        nodes.add(new VNode(token, name));
      }
    }
    return new HashRing(names, nodes.toArray(new VNode[0]), most, replicationFactor);
  }

  private static List<String> sortedDistinct(Collection<String> names) {
    TreeSet<String> sorted = new TreeSet<>();
    for (String name : names) {
      sorted.add(Objects.requireNonNull(name, "member name"));
    }
    return List.copyOf(sorted);
  }

  /** The token of a member's {@code i}-th virtual node. */
  public static long vnodeToken(String member, int i) {
    return Murmur3.hash64((member + "#" + i).getBytes(StandardCharsets.UTF_8));
  }

  private record VNode(long token, String owner) implements Comparable<VNode> {
    @Override
    public int compareTo(VNode o) {
      int byToken = Long.compare(token, o.token);
      return byToken != 0 ? byToken : owner.compareTo(o.owner);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"}) // Java has no generic array creation
  private static List<String>[] computePreferences(int size, String[] owners, int n) {
    List<String>[] result = new List[size];
    // Many positions share a list; interning keeps a big ring's footprint to the distinct lists.
    Map<List<String>, List<String>> interned = new HashMap<>();
    LinkedHashSet<String> walk = new LinkedHashSet<>();
    for (int i = 0; i < size; i++) {
      walk.clear();
      for (int step = 0; step < size && walk.size() < n; step++) {
        walk.add(owners[(i + step) % size]);
      }
      List<String> list = List.copyOf(walk);
      result[i] = interned.computeIfAbsent(list, l -> l);
    }
    return result;
  }

  public int vnodes() {
    return vnodes;
  }

  public int replicationFactor() {
    return replicationFactor;
  }

  /** The effective N: replicas per key, {@code min(replicationFactor, members)}. */
  public int replicaCount() {
    return Math.min(replicationFactor, members.size());
  }

  /** Member names, sorted. */
  public List<String> members() {
    return members;
  }

  public boolean contains(String member) {
    return Collections.binarySearch(members, member) >= 0;
  }

  public boolean isEmpty() {
    return members.isEmpty();
  }

  /** Number of vnode positions on the ring ({@code members * vnodes}). */
  public int size() {
    return tokens.length;
  }

  /** Token of vnode position {@code i}, in ring order ({@code 0 <= i < size()}). */
  public long tokenAt(int i) {
    return tokens[i];
  }

  /** Owner of vnode position {@code i}. */
  public String ownerAt(int i) {
    return owners[i];
  }

  /** The N distinct replicas of a key, primary first; empty only for an empty ring. */
  public List<String> preferenceList(String key) {
    return preferenceList(Murmur3.token(key));
  }

  /** The N distinct replicas of a token, primary first; empty only for an empty ring. */
  public List<String> preferenceList(long token) {
    if (tokens.length == 0) {
      return List.of();
    }
    return preferences[successor(token)];
  }

  /** The member that owns {@code token} first (the head of its preference list). */
  public String primary(long token) {
    if (tokens.length == 0) {
      throw new IllegalStateException("the ring is empty");
    }
    return owners[successor(token)];
  }

  /** Position of the first vnode with token >= {@code token}, wrapping to 0 past the last. */
  int successor(long token) {
    return lowerBound(tokens, token);
  }

  /** First index with {@code sorted[i] >= token}, or 0 past the end (the ring wraps). */
  private static int lowerBound(long[] sorted, long token) {
    int lo = 0;
    int hi = sorted.length;
    // lower bound, so among equal tokens the first (smallest name) is the successor
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] < token) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == sorted.length ? 0 : lo;
  }

  /**
   * The ranges for which {@code member} is one of the N replicas, in ring order, adjacent arcs
   * merged (also across the wrap point). The whole ring is {@link TokenRange#full()}; a member not
   * on the ring owns nothing.
   */
  public List<TokenRange> ownedRanges(String member) {
    return Ranges.collect(boundaries(this), token -> preferenceList(token).contains(member));
  }

  /**
   * Every member that is a replica of some token in {@code range}, in order of first appearance
   * walking the range clockwise. For a range inside one vnode arc this is exactly its preference
   * list; for a wider range it is who may hold any of its keys (what a handoff reads from).
   */
  public List<String> replicasFor(TokenRange range) {
    long[] b = boundaries(this);
    if (b.length == 0) {
      return List.of();
    }
    // start at the arc holding the range's first token, so the order follows the range
    int first = lowerBound(b, range.start() + 1);
    LinkedHashSet<String> found = new LinkedHashSet<>();
    for (int step = 0; step < b.length; step++) {
      int k = (first + step) % b.length;
      long segmentStart = b[(k - 1 + b.length) % b.length];
      if (Ranges.overlaps(range, segmentStart, b[k])) {
        found.addAll(preferenceList(b[k]));
      }
    }
    return List.copyOf(found);
  }

  /** Fraction of the token space (0..1) for which {@code member} is the primary replica. */
  public double ownershipShare(String member) {
    if (tokens.length == 0) {
      return 0;
    }
    double owned = 0;
    for (int i = 0; i < tokens.length; i++) {
      // behind an equal token a vnode owns nothing: the first of the tie takes the arc
      boolean tiedBehind = i > 0 && tokens[i - 1] == tokens[i];
      if (owners[i].equals(member) && !tiedBehind) {
        long previous = tokens[i == 0 ? tokens.length - 1 : i - 1];
        owned += arcLength(previous, tokens[i]);
      }
    }
    return owned / TWO_TO_64;
  }

  /**
   * Fraction of the token space (0..1) whose preference list (members and order) differs between
   * two rings: the share of keys that the change touches, as the ring log line reports it.
   */
  public static double movedFraction(HashRing before, HashRing after) {
    return changedFraction(before, after, false);
  }

  /** Fraction of the token space (0..1) whose primary replica differs between two rings. */
  public static double primaryMovedFraction(HashRing before, HashRing after) {
    return changedFraction(before, after, true);
  }

  private static double changedFraction(HashRing before, HashRing after, boolean primaryOnly) {
    double[] moved = new double[1];
    Ranges.forEachSegment(
        boundaries(before, after),
        (start, end) -> {
          List<String> a = before.preferenceList(end);
          List<String> b = after.preferenceList(end);
          boolean changed =
              primaryOnly
                  ? !(a.isEmpty() ? b.isEmpty() : !b.isEmpty() && a.get(0).equals(b.get(0)))
                  : !a.equals(b);
          if (changed) {
            moved[0] += arcLength(start, end);
          }
        });
    return moved[0] / TWO_TO_64;
  }

  /**
   * Length of the arc {@code (start, end]} as an unsigned count; start == end is the whole ring.
   */
  static double arcLength(long start, long end) {
    long diff = end - start;
    if (diff == 0) {
      return TWO_TO_64;
    }
    // diff is the arc length mod 2^64; a negative long is that length read as unsigned
    return diff > 0 ? (double) diff : (double) diff + TWO_TO_64;
  }

  /**
   * The sorted distinct tokens of several rings: every point where some preference list may change.
   */
  static long[] boundaries(HashRing... rings) {
    int total = 0;
    for (HashRing r : rings) {
      total += r.tokens.length;
    }
    long[] all = new long[total];
    int at = 0;
    for (HashRing r : rings) {
      System.arraycopy(r.tokens, 0, all, at, r.tokens.length);
      at += r.tokens.length;
    }
    Arrays.sort(all);
    int distinct = 0;
    for (int i = 0; i < all.length; i++) {
      if (distinct == 0 || all[i] != all[distinct - 1]) {
        all[distinct++] = all[i];
      }
    }
    return Arrays.copyOf(all, distinct);
  }

  /** Tokens and owners in ring order, for {@code /cluster/ring}. */
  public List<VNodeToken> tokens() {
    List<VNodeToken> list = new ArrayList<>(tokens.length);
    for (int i = 0; i < tokens.length; i++) {
      list.add(new VNodeToken(tokens[i], owners[i]));
    }
    return Collections.unmodifiableList(list);
  }

  /** One vnode: its token and the member that owns it. */
  public record VNodeToken(long token, String node) {}

  @Override
  public boolean equals(Object o) {
    return o instanceof HashRing other
        && vnodes == other.vnodes
        && replicationFactor == other.replicationFactor
        && Arrays.equals(tokens, other.tokens)
        && Arrays.equals(owners, other.owners);
  }

  @Override
  public int hashCode() {
    return Objects.hash(vnodes, replicationFactor, members);
  }

  @Override
  public String toString() {
    return "HashRing" + members + " (vnodes " + vnodes + ", N " + replicaCount() + ")";
  }
}
