package dhtnode.membership;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * SWIM's randomized round-robin probe order: the members are walked in a shuffled order and
 * reshuffled after each full round, so every member is probed once per round and a failure is
 * detected within at most two rounds (unlike uniform random picks). A new member is inserted at a
 * random position; if that is behind the walk it is probed in the next round.
 *
 * <p>Mutable and not thread-safe: it belongs to one actor. The {@link Random} is injected so tests
 * are deterministic.
 */
public final class ProbeOrder {
  private final Random random;

  /** The walk; may still hold removed names, which are dropped when the walk reaches them. */
  private final List<String> order = new ArrayList<>();

  /** The names in {@link #order}, removed or not. */
  private final Set<String> listed = new HashSet<>();

  /** The current members: O(1) membership tests, and removal without searching the walk. */
  private final Set<String> members = new HashSet<>();

  private int next;

  public ProbeOrder(Random random) {
    this.random = random;
  }

  public void add(String name) {
    if (!members.add(name) || listed.contains(name)) {
      return; // already a member, or removed but still in the walk: it simply counts again
    }
    listed.add(name);
    int position = random.nextInt(order.size() + 1);
    order.add(position, name);
    if (position < next) {
      // keep the walk pointing at the member it was about to probe
      next++;
    }
  }

  public void remove(String name) {
    members.remove(name);
  }

  public int size() {
    return members.size();
  }

  public boolean contains(String name) {
    return members.contains(name);
  }

  /** The member to probe now; empty when there is nobody to probe. */
  public Optional<String> next() {
    while (!members.isEmpty()) {
      if (next >= order.size()) {
        order.removeIf(n -> !members.contains(n));
        listed.retainAll(members);
        Collections.shuffle(order, random);
        next = 0;
      }
      String name = order.get(next);
      if (members.contains(name)) {
        next++;
        return Optional.of(name);
      }
      order.remove(next);
      listed.remove(name);
    }
    return Optional.empty();
  }
}
