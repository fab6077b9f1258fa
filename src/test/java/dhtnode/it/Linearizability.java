package dhtnode.it;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A linearizability checker for histories of independent read/write registers, one per key (the
 * Wing-Gong search with memoisation, as Knossos and Porcupine do it). Each operation has a real-
 * time call and return; a write whose outcome is unknown (a 503 or a client timeout) may take
 * effect at any point after its call, or never, so it is given an infinite return and is optional.
 * A history is linearizable if some total order of the operations respects real time (an op that
 * returned before another was called comes first) and register semantics (a read returns the latest
 * write before it, or absent/deleted). Values must be unique per key for the check to be
 * meaningful.
 */
final class Linearizability {

  enum Kind {
    READ,
    WRITE
  }

  /**
   * One client operation. {@code value} is the value written, or the value read (null = absent or
   * deleted; a delete is a write of null). {@code unknown} marks a write with unknown outcome.
   */
  record Op(String key, Kind kind, String value, long call, long ret, boolean unknown) {
    static Op write(String key, String value, long call, long ret) {
      return new Op(key, Kind.WRITE, value, call, ret, false);
    }

    static Op unknownWrite(String key, String value, long call) {
      return new Op(key, Kind.WRITE, value, call, Long.MAX_VALUE, true);
    }

    static Op read(String key, String value, long call, long ret) {
      return new Op(key, Kind.READ, value, call, ret, false);
    }
  }

  /** The verdict: empty when linearizable, else the key whose history is not. */
  record Result(boolean linearizable, String badKey, int ops) {}

  private Linearizability() {}

  static Result check(List<Op> history) {
    Map<String, List<Op>> byKey = new TreeMap<>();
    for (Op op : history) {
      byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
    }
    for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
      if (!checkRegister(e.getValue())) {
        return new Result(false, e.getKey(), history.size());
      }
    }
    return new Result(true, null, history.size());
  }

  /** Initial value is absent (null). */
  static boolean checkRegister(List<Op> ops) {
    // An unknown write whose value no read returned may be taken as never having happened: it is
    // optional, and placing it could only hide values from later reads. Leaving such writes out
    // keeps the search from branching on every 503 of a long, contended run.
    Set<String> read = new HashSet<>();
    for (Op op : ops) {
      if (op.kind() == Kind.READ) {
        read.add(op.value()); // null too: an unknown delete may explain a read of nothing
      }
    }
    ops = ops.stream().filter(op -> !op.unknown() || read.contains(op.value())).toList();
    Op[] sorted = ops.toArray(Op[]::new);
    Arrays.sort(sorted, (a, b) -> Long.compare(a.call(), b.call()));
    int required = 0;
    for (Op op : sorted) {
      if (!op.unknown()) {
        required++;
      }
    }
    return search(sorted, new boolean[sorted.length], null, required, new HashSet<>());
  }

  private static boolean search(
      Op[] ops, boolean[] done, String value, int remaining, Set<String> seen) {
    if (remaining == 0) {
      return true; // every op that surely happened is placed; unknown writes may never have
    }
    String state = memoKey(done, value);
    if (!seen.add(state)) {
      return false;
    }
    // an op can go next only if it was called before every pending op has returned
    long earliestReturn = Long.MAX_VALUE;
    for (int i = 0; i < ops.length; i++) {
      if (!done[i]) {
        earliestReturn = Math.min(earliestReturn, ops[i].ret());
      }
    }
    for (int i = 0; i < ops.length; i++) {
      Op op = ops[i];
      if (done[i]) {
        continue;
      }
      if (op.call() > earliestReturn) {
        break; // sorted by call: no later op can be minimal either
      }
      String next = value;
      if (op.kind() == Kind.READ) {
        if (!Objects.equals(op.value(), value)) {
          continue;
        }
      } else {
        next = op.value();
      }
      done[i] = true;
      boolean ok = search(ops, done, next, remaining - (op.unknown() ? 0 : 1), seen);
      done[i] = false;
      if (ok) {
        return true;
      }
    }
    return false;
  }

  private static String memoKey(boolean[] done, String value) {
    StringBuilder sb = new StringBuilder(done.length + 16);
    for (boolean d : done) {
      sb.append(d ? '1' : '0');
    }
    return sb.append('|').append(value).toString();
  }
}
