package dhtnode.stabilization;

import dhtnode.keyspace.Murmur3;
import dhtnode.keyspace.TokenRange;
import dhtnode.storage.Versioned;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Merkle tree over one token range, as two replicas build it to find where they differ without
 * shipping their data. The range is cut into 2^depth leaves of equal token width; a leaf's hash is
 * the sum of the hashes of (key, version, digest of the value and tombstone flag) of the entries in
 * it (so it does not depend on the order entries are added), and an inner node hashes its two
 * children. Two trees of the same range and depth compare top-down, skipping equal subtrees, down
 * to the leaf ranges that differ. Immutable once built.
 */
public final class MerkleTree {
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  private final TokenRange range;
  private final int depth;

  /** Heap layout: node i has children 2i and 2i+1; leaves are [2^depth, 2^(depth+1)). */
  private final long[] hashes;

  /** Unsigned offset from range.start() of the first token of each leaf, plus the width. */
  private final long[] leafStarts;

  private MerkleTree(TokenRange range, int depth, long[] hashes, long[] leafStarts) {
    this.range = range;
    this.depth = depth;
    this.hashes = hashes;
    this.leafStarts = leafStarts;
  }

  public static Builder builder(TokenRange range, int depth) {
    if (depth < 0 || depth > 20) {
      throw new IllegalArgumentException("depth must be 0..20, was " + depth);
    }
    return new Builder(range, depth);
  }

  public TokenRange range() {
    return range;
  }

  public int depth() {
    return depth;
  }

  public long root() {
    return hashes[1];
  }

  public int leafCount() {
    return 1 << depth;
  }

  /** The token range of leaf {@code i} (0-based, in ring order from the range's start). */
  public TokenRange leafRange(int i) {
    long from = range.start() + leafStarts[i];
    long to = range.start() + leafStarts[i + 1];
    return new TokenRange(from, to);
  }

  /**
   * The leaf ranges where this tree and {@code other} differ, adjacent ones merged, in ring order.
   * Empty when the roots are equal.
   */
  public List<TokenRange> difference(MerkleTree other) {
    List<Integer> leaves = differingLeafIndexes(other);
    List<TokenRange> out = new ArrayList<>();
    int runStart = -1;
    int prev = -2;
    for (int leaf : leaves) {
      if (leaf != prev + 1) {
        if (runStart >= 0) {
          out.add(span(runStart, prev));
        }
        runStart = leaf;
      }
      prev = leaf;
    }
    if (runStart >= 0) {
      out.add(span(runStart, prev));
    }
    return out;
  }

  /**
   * The ranges of the individual leaves where this tree and {@code other} differ, not merged, in
   * ring order: the unit of work of a repair, so each exchange is bounded by one leaf's keys.
   */
  public List<TokenRange> differingLeaves(MerkleTree other) {
    List<Integer> leaves = differingLeafIndexes(other);
    List<TokenRange> out = new ArrayList<>(leaves.size());
    for (int leaf : leaves) {
      out.add(span(leaf, leaf));
    }
    return out;
  }

  /** The indexes of the leaves whose hashes differ from {@code other}'s, in ring order. */
  private List<Integer> differingLeafIndexes(MerkleTree other) {
    if (!range.equals(other.range) || depth != other.depth) {
      throw new IllegalArgumentException(
          "trees of different shape: "
              + range
              + "/"
              + depth
              + " vs "
              + other.range
              + "/"
              + other.depth);
    }
    List<Integer> leaves = new ArrayList<>();
    collect(1, other, leaves);
    return leaves;
  }

  private void collect(int node, MerkleTree other, List<Integer> leaves) {
    if (hashes[node] == other.hashes[node]) {
      return;
    }
    if (node >= leafCount()) {
      leaves.add(node - leafCount());
      return;
    }
    collect(2 * node, other, leaves);
    collect(2 * node + 1, other, leaves);
  }

  private TokenRange span(int firstLeaf, int lastLeaf) {
    return new TokenRange(
        range.start() + leafStarts[firstLeaf], range.start() + leafStarts[lastLeaf + 1]);
  }

  /** The serialisable form: range, depth and every node hash. */
  public long[] hashes() {
    return hashes.clone();
  }

  public static MerkleTree of(TokenRange range, int depth, long[] hashes) {
    Builder b = builder(range, depth);
    if (hashes.length != 2 << depth) {
      throw new IllegalArgumentException(
          "expected " + (2 << depth) + " hashes, got " + hashes.length);
    }
    return new MerkleTree(range, depth, hashes.clone(), b.leafStarts);
  }

  /**
   * Hash of one entry: the key, its version, and a digest of what is stored under that version
   * (tombstone flag, content type, bytes). Two replicas holding one version with different contents
   * therefore differ in their trees, so anti-entropy compares them instead of taking the shared
   * version for the same value.
   */
  public static long entryHash(String key, Versioned value) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] w = value.version().writer().getBytes(StandardCharsets.UTF_8);
    byte[] t = value.contentType().getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocate(4 + k.length + 8 + 4 + w.length + 1 + 4 + t.length + 8);
    buf.putInt(k.length)
        .put(k)
        .putLong(value.version().timestamp())
        .putInt(w.length)
        .put(w)
        .put((byte) (value.tombstone() ? 1 : 0))
        .putInt(t.length)
        .put(t)
        .putLong(Murmur3.hash64(value.value()));
    return Murmur3.hash64(buf.array());
  }

  /** Collects entries of the range, in any order, then builds the tree. */
  public static final class Builder {
    private final TokenRange range;
    private final int depth;
    private final long[] leaves;
    private final long[] leafStarts;

    private Builder(TokenRange range, int depth) {
      this.range = range;
      this.depth = depth;
      this.leaves = new long[1 << depth];
      // width of (start, end] in tokens; the full ring is 2^64
      BigInteger width =
          range.isFull()
              ? TWO_64
              : BigInteger.valueOf(range.end())
                  .subtract(BigInteger.valueOf(range.start()))
                  .mod(TWO_64);
      leafStarts = new long[(1 << depth) + 1];
      for (int i = 0; i <= 1 << depth; i++) {
        // offsets are unsigned: the last one is the width itself (2^64 wraps to 0 for the full
        // ring)
        leafStarts[i] = width.multiply(BigInteger.valueOf(i)).shiftRight(depth).longValue();
      }
    }

    /** Adds an entry; its token must lie in the tree's range. */
    public Builder add(long token, long entryHash) {
      if (!range.contains(token)) {
        throw new IllegalArgumentException("token " + token + " is outside " + range);
      }
      long offset = token - range.start(); // in (0, width], unsigned
      int leaf = leafOf(offset);
      leaves[leaf] += entryHash;
      return this;
    }

    /** The leaf whose (start, end] offsets hold {@code offset}. */
    private int leafOf(long offset) {
      int lo = 0;
      int hi = leaves.length - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        long end = leafStarts[mid + 1];
        boolean fullRingEnd = end == 0 && mid + 1 == leaves.length;
        if (fullRingEnd || Long.compareUnsigned(offset, end) <= 0) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      return lo;
    }

    public MerkleTree build() {
      int n = leaves.length;
      long[] hashes = new long[2 * n];
      System.arraycopy(leaves, 0, hashes, n, n);
      for (int i = n - 1; i >= 1; i--) {
        hashes[i] = combine(hashes[2 * i], hashes[2 * i + 1]);
      }
      return new MerkleTree(range, depth, hashes, Arrays.copyOf(leafStarts, leafStarts.length));
    }

    private static long combine(long left, long right) {
      if (left == 0 && right == 0) {
        return 0; // empty subtrees stay 0, so empty ranges compare equal cheaply
      }
      long h = left * 0x9E3779B97F4A7C15L + Long.rotateLeft(right, 31);
      h ^= h >>> 33;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
      return h;
    }
  }
}
