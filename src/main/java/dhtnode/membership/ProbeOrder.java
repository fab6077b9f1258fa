package dhtnode.membership;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

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
  private final List<String> order = new ArrayList<>();
  private int next;

  public ProbeOrder(Random random) {
    this.random = random;
  }

  public void add(String name) {
    if (order.contains(name)) {
      return;
    }
    int position = random.nextInt(order.size() + 1);
    order.add(position, name);
    if (position < next) {
      // keep the walk pointing at the member it was about to probe
      next++;
    }
  }

  public void remove(String name) {
    int position = order.indexOf(name);
    if (position < 0) {
      return;
    }
    order.remove(position);
    if (position < next) {
      next--;
    }
  }

  public int size() {
    return order.size();
  }

  public boolean contains(String name) {
    return order.contains(name);
  }

  /** The member to probe now; empty when there is nobody to probe. */
  public Optional<String> next() {
    if (order.isEmpty()) {
      return Optional.empty();
    }
    if (next >= order.size()) {
      Collections.shuffle(order, random);
      next = 0;
    }
    return Optional.of(order.get(next++));
  }
}
