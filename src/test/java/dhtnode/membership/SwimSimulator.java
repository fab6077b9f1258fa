package dhtnode.membership;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A deterministic discrete-event simulation of many {@link SwimProtocol} nodes: virtual time, one
 * priority queue of events, a seeded network (latency, loss, partitions as predicates) and, per
 * node, a FIFO processing queue, so a timer and a datagram that arrive together are handled one
 * after the other and a node that is busy or paused handles both late, as a real actor would. Every
 * datagram is a byte array produced by the real {@link WireCodec} and decoded by the receiving
 * protocol. The same seed gives the same run.
 */
final class SwimSimulator {

  /** Drops a datagram from one node to another at a time, for partitions. */
  interface Cut {
    boolean drops(Node from, Node to, long nanos);
  }

  /** What the network does to datagrams. */
  record NetworkModel(double loss, long minLatencyNanos, long maxLatencyNanos) {
    static NetworkModel lan(double loss) {
      return new NetworkModel(loss, 200_000, 2_000_000);
    }
  }

  /** An event a node published, with when and where. */
  record Published(long nanos, Node at, MemberEvent event) {}

  private abstract static class Event {
    final Node node;

    Event(Node node) {
      this.node = node;
    }

    abstract void run();
  }

  /**
   * The pending events as a binary min-heap by (time, order of scheduling), with the keys in
   * primitive arrays: a sift compares numbers side by side in memory instead of following a pointer
   * to each event (with a thousand members, thousands of events are pending and each one touched is
   * a cache miss). The same order as a {@code PriorityQueue} of events compared by those keys.
   */
  private static final class EventQueue {
    private long[] times = new long[1024];
    private long[] orders = new long[1024];
    private Event[] events = new Event[1024];
    private int size;

    boolean isEmpty() {
      return size == 0;
    }

    /** Time of the first event; only when not empty. */
    long firstTime() {
      return times[0];
    }

    void add(long time, long order, Event event) {
      if (size == events.length) {
        times = Arrays.copyOf(times, size * 2);
        orders = Arrays.copyOf(orders, size * 2);
        events = Arrays.copyOf(events, size * 2);
      }
      int i = size++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (!before(time, order, times[parent], orders[parent])) {
          break;
        }
        set(i, times[parent], orders[parent], events[parent]);
        i = parent;
      }
      set(i, time, order, event);
    }

    /** Removes and returns the first event. */
    Event poll() {
      Event first = events[0];
      int last = --size;
      long time = times[last];
      long order = orders[last];
      Event event = events[last];
      events[last] = null;
      if (last > 0) {
        int i = 0;
        int half = last >>> 1;
        while (i < half) {
          int child = 2 * i + 1;
          int right = child + 1;
          if (right < last && before(times[right], orders[right], times[child], orders[child])) {
            child = right;
          }
          if (!before(times[child], orders[child], time, order)) {
            break;
          }
          set(i, times[child], orders[child], events[child]);
          i = child;
        }
        set(i, time, order, event);
      }
      return first;
    }

    private void set(int i, long time, long order, Event event) {
      times[i] = time;
      orders[i] = order;
      events[i] = event;
    }

    private static boolean before(long time, long order, long otherTime, long otherOrder) {
      return time < otherTime || (time == otherTime && order < otherOrder);
    }
  }

  private final class Delivery extends Event {
    final InetSocketAddress from;
    final byte[] payload;

    Delivery(Node node, InetSocketAddress from, byte[] payload) {
      super(node);
      this.from = from;
      this.payload = payload;
    }

    @Override
    void run() {
      node.received++;
      if (trace != null) {
        trace.accept(this.node, payload);
      }
      node.protocol.onDatagram(from, payload);
    }
  }

  private final class TimerFiring extends Event {
    final Object key;
    final SwimProtocol.Timer timer;

    TimerFiring(Node node, Object key, SwimProtocol.Timer timer) {
      super(node);
      this.key = key;
      this.timer = timer;
    }

    @Override
    void run() {
      if (node.timers.get(key) != this) {
        return; // cancelled or restarted: Akka's timers drop such a message too
      }
      node.timers.remove(key);
      node.protocol.onTimer(timer);
    }
  }

  private final class Action extends Event {
    final Runnable action;

    Action(Node node, Runnable action) {
      super(node);
      this.action = action;
    }

    @Override
    void run() {
      action.run();
    }
  }

  /** One simulated member: its protocol, timers, processing queue and counters. */
  final class Node implements SwimProtocol.Effects {
    final int index;
    final String name;
    final InetSocketAddress address;
    final SwimProtocol protocol;

    /** The pending firing of each started timer; a cancelled or restarted one is not here. */
    final Map<Object, TimerFiring> timers = new HashMap<>();

    /** Virtual time at which this node is done with what it is processing. */
    long freeAt;

    /** Until when this node is paused (SIGSTOP), or 0. */
    long pausedFrom = Long.MAX_VALUE;

    long pausedUntil;
    boolean crashed;
    long sent;
    long received;
    long sentBytes;
    int maxDatagram;
    long probes;
    final long[] outcomes = new long[SwimProtocol.ProbeOutcome.values().length];
    long refutations;

    Node(
        int index,
        String name,
        InetSocketAddress address,
        List<InetSocketAddress> seeds,
        long incarnation,
        MembershipSettings settings) {
      this.index = index;
      this.name = name;
      this.address = address;
      this.protocol =
          new SwimProtocol(
              new LocalNode(name, address.getHostString(), address.getPort(), 1, seeds),
              incarnation,
              settings,
              new Random(random.nextLong()),
              () -> now,
              this);
    }

    @Override
    public void send(InetSocketAddress to, byte[] datagram) {
      sent++;
      sentBytes += datagram.length;
      maxDatagram = Math.max(maxDatagram, datagram.length);
      if (datagram.length > settings.maxDatagramSize) {
        try {
          throw new IllegalStateException(
              name + " sent " + datagram.length + " bytes: " + WireCodec.decode(datagram));
        } catch (WireCodec.MalformedDatagramException e) {
          throw new IllegalStateException(e);
        }
      }
      datagramsSent++;
      Node target = byAddress.get(to);
      if (target == null || random.nextDouble() < network.loss()) {
        return;
      }
      for (Cut cut : cuts) {
        if (cut.drops(this, target, now)) {
          return;
        }
      }
      long latency =
          network.minLatencyNanos()
              + (long)
                  (random.nextDouble() * (network.maxLatencyNanos() - network.minLatencyNanos()));
      schedule(now + latency, new Delivery(target, address, datagram));
    }

    @Override
    public void startTimer(Object key, SwimProtocol.Timer timer, Duration delay) {
      TimerFiring firing = new TimerFiring(this, key, timer);
      timers.put(key, firing);
      schedule(now + delay.toNanos(), firing);
    }

    @Override
    public void cancelTimer(Object key) {
      timers.remove(key);
    }

    @Override
    public void publish(MemberEvent event) {
      if (recordEvents) {
        published.add(new Published(now, this, event));
      }
      for (Consumer<Published> listener : listeners) {
        listener.accept(new Published(now, this, event));
      }
    }

    @Override
    public void info(String line) {
      if (log) {
        System.out.printf("%9.3f %s%n", now / 1e9, line);
      }
    }

    @Override
    public void warn(String line) {
      info("WARN " + line);
    }

    @Override
    public void debug(Supplier<String> line) {}

    @Override
    public void probeStarted() {
      probes++;
    }

    @Override
    public void probeConcluded(SwimProtocol.ProbeOutcome outcome) {
      outcomes[outcome.ordinal()]++;
    }

    @Override
    public void refuted() {
      refutations++;
    }

    boolean isLive() {
      return !crashed;
    }

    MemberStatus statusOf(Node other) {
      return protocol.member(other.name).map(Member::status).orElse(null);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private final Random random;
  private final MembershipSettings settings;
  private final NetworkModel network;
  private final EventQueue queue = new EventQueue();
  private final Map<InetSocketAddress, Node> byAddress = new HashMap<>();
  private final List<Node> nodes = new ArrayList<>();
  private final List<Cut> cuts = new ArrayList<>();
  private final List<Consumer<Published>> listeners = new ArrayList<>();
  final List<Published> published = new ArrayList<>();
  private long nextOrder;
  private long now;

  /** Virtual processing time of one event at a node. */
  private long processingNanos = 20_000;

  boolean recordEvents = true;

  /** Sees every datagram a node handles, before it does; for debugging a run. */
  java.util.function.BiConsumer<Node, byte[]> trace;

  boolean log;
  long datagramsSent;
  long eventsRun;

  SwimSimulator(long seed, MembershipSettings settings, NetworkModel network) {
    this.random = new Random(seed);
    this.settings = settings;
    this.network = network;
  }

  long now() {
    return now;
  }

  List<Node> nodes() {
    return nodes;
  }

  Node node(int i) {
    return nodes.get(i);
  }

  void processingTime(Duration perEvent) {
    processingNanos = perEvent.toNanos();
  }

  void cut(Cut cut) {
    cuts.add(cut);
  }

  void onEvent(Consumer<Published> listener) {
    listeners.add(listener);
  }

  static InetSocketAddress addressOf(int index) {
    // 10.x.y.z literals: no name lookup, and room for 65k members
    return new InetSocketAddress("10.0." + (index / 250) + "." + (index % 250 + 1), 7000);
  }

  /** Adds a member that joins through {@code seeds} (or founds the cluster) at {@code startAt}. */
  Node add(List<InetSocketAddress> seeds, Duration startAt) {
    int index = nodes.size();
    InetSocketAddress address = addressOf(index);
    Node node = new Node(index, "n" + index, address, seeds, 1, settings);
    nodes.add(node);
    byAddress.put(address, node);
    at(startAt.toNanos(), node, node.protocol::start);
    return node;
  }

  /**
   * Starts {@code n} members: the first founds the cluster, each other joins through it, one every
   * {@code spacing}.
   */
  void startCluster(int n, Duration spacing) {
    Node seed = add(List.of(addressOf(0)), Duration.ZERO);
    for (int i = 1; i < n; i++) {
      add(List.of(seed.address), spacing.multipliedBy(i));
    }
  }

  /**
   * Starts {@code n} members that already know each other, as a cluster that has been up a while:
   * each founds nothing and is handed node 0's whole table as JOIN_REPLY parts (encoded and decoded
   * like any datagram) at time 0, so no join storm precedes the measurement.
   */
  void startStable(int n) {
    List<Member> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      InetSocketAddress a = addressOf(i);
      all.add(new Member("n" + i, a.getHostString(), a.getPort(), 1, MemberStatus.ALIVE, 1));
    }
    for (int i = 0; i < n; i++) {
      Node node = add(List.of(addressOf(i == 0 ? 1 : 0)), Duration.ZERO);
      Member from = all.get(i == 0 ? 1 : 0);
      List<byte[]> parts = new ArrayList<>();
      for (int start = 0; start < n; start += 30) {
        parts.add(
            WireCodec.encode(
                new SwimMessage.JoinReply(from, 0, all.subList(start, Math.min(n, start + 30)))));
      }
      InetSocketAddress sender = addressOf(i == 0 ? 1 : 0);
      at(0, node, () -> parts.forEach(p -> node.protocol.onDatagram(sender, p)));
    }
  }

  /** Runs {@code action} on {@code node}'s queue at virtual time {@code nanos}. */
  void at(long nanos, Node node, Runnable action) {
    schedule(nanos, new Action(node, action));
  }

  /** Crashes {@code node} at {@code nanos}: from then on it neither sends nor handles anything. */
  void crashAt(long nanos, Node node) {
    schedule(nanos, new Action(null, () -> node.crashed = true));
  }

  /** Pauses {@code node} (SIGSTOP) from {@code nanos} for {@code length}. */
  void pauseAt(long nanos, Node node, Duration length) {
    schedule(
        nanos,
        new Action(
            null,
            () -> {
              node.pausedFrom = nanos;
              node.pausedUntil = nanos + length.toNanos();
            }));
  }

  void runFor(Duration duration) {
    runUntil(now + duration.toNanos());
  }

  void runUntil(long end) {
    while (!queue.isEmpty() && queue.firstTime() <= end) {
      long at = queue.firstTime();
      Event e = queue.poll();
      now = at;
      Node node = e.node;
      if (node == null) {
        e.run();
        continue;
      }
      if (node.crashed) {
        continue;
      }
      long start = Math.max(at, node.freeAt);
      if (start >= node.pausedFrom && start < node.pausedUntil) {
        start = node.pausedUntil;
      }
      if (start > at) {
        // busy or paused: handled later, in arrival order (a later arrival gets a higher order)
        schedule(start, e);
        continue;
      }
      node.freeAt = now + processingNanos;
      eventsRun++;
      e.run();
    }
    now = Math.max(now, end);
  }

  private void schedule(long at, Event event) {
    queue.add(at, nextOrder++, event);
  }

  // ---- observations ------------------------------------------------------------------------

  /** Members other than {@code node} that hold it in {@code status}, among the live ones. */
  long liveHolding(Node node, MemberStatus status) {
    return nodes.stream()
        .filter(n -> n != node && n.isLive() && n.statusOf(node) == status)
        .count();
  }

  /** True when every live member holds every live member ALIVE. */
  boolean converged() {
    for (Node a : nodes) {
      if (!a.isLive()) {
        continue;
      }
      for (Node b : nodes) {
        if (b.isLive() && a.statusOf(b) != MemberStatus.ALIVE) {
          return false;
        }
      }
    }
    return true;
  }

  long totalSent() {
    return nodes.stream().mapToLong(n -> n.sent).sum();
  }

  long totalReceived() {
    return nodes.stream().mapToLong(n -> n.received).sum();
  }
}
