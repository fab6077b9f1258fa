package dhtnode.membership;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Which failed UDP sends deserve a WARN line. SWIM tolerates a lost datagram, but one the kernel
 * refuses to send (a route, a firewall, a bad address) is a fault an operator should see; a peer
 * that stays unreachable, though, is written to every period and must not flood the log. So per
 * destination: the first failure is a WARN, further failures within {@code interval} are counted
 * (DEBUG only), and the first failure after that is a WARN again that says how many were not shown.
 * The first send that works after a WARN is one INFO line. At most {@code maxTracked} destinations
 * are remembered; past that the oldest report is forgotten, so churn cannot grow it.
 *
 * <p>Mutable and not thread-safe: it belongs to one transport.
 */
final class SendFailures {
  private final long intervalNanos;
  private final int maxTracked;
  private final LongSupplier nanoClock;
  private final Map<InetSocketAddress, Failing> failing = new HashMap<>();

  private static final class Failing {
    long warnedAt;
    long unreported;

    Failing(long warnedAt) {
      this.warnedAt = warnedAt;
    }
  }

  SendFailures(Duration interval, int maxTracked, LongSupplier nanoClock) {
    this.intervalNanos = interval.toNanos();
    this.maxTracked = maxTracked;
    this.nanoClock = nanoClock;
  }

  /**
   * A send to {@code to} failed with {@code error}: the WARN line to write, or null for DEBUG only.
   */
  String failed(InetSocketAddress to, String error) {
    long now = nanoClock.getAsLong();
    Failing f = failing.get(to);
    if (f == null) {
      if (failing.size() >= maxTracked) {
        forgetOldest();
      }
      failing.put(to, new Failing(now));
      return "UDP datagrams to "
          + to
          + " cannot be sent ("
          + error
          + "); repeated at most every "
          + intervalNanos / 1_000_000_000
          + " s while they keep failing";
    }
    if (now - f.warnedAt < intervalNanos) {
      f.unreported++;
      return null;
    }
    String line =
        "UDP datagrams to "
            + to
            + " still cannot be sent ("
            + error
            + "); "
            + f.unreported
            + " more failed since the last warning";
    f.warnedAt = now;
    f.unreported = 0;
    return line;
  }

  /**
   * A send to {@code to} worked: the INFO line to write if its failure had been reported, else
   * null.
   */
  String sent(InetSocketAddress to) {
    if (failing.isEmpty() || failing.remove(to) == null) {
      return null;
    }
    return "UDP datagrams to " + to + " can be sent again";
  }

  /** Destinations whose failure has been reported and that have not worked since. */
  int tracked() {
    return failing.size();
  }

  private void forgetOldest() {
    InetSocketAddress oldest = null;
    long at = Long.MAX_VALUE;
    for (Map.Entry<InetSocketAddress, Failing> e : failing.entrySet()) {
      if (e.getValue().warnedAt < at) {
        at = e.getValue().warnedAt;
        oldest = e.getKey();
      }
    }
    failing.remove(oldest);
  }
}
