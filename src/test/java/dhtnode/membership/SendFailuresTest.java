package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Which failed sends are WARN lines: one per destination per interval, never one per datagram. */
class SendFailuresTest {
  private static final InetSocketAddress A = new InetSocketAddress("10.0.0.1", 7000);
  private static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 7000);
  private static final Duration MINUTE = Duration.ofMinutes(1);

  private long now;
  private final SendFailures failures = new SendFailures(MINUTE, 3, () -> now);

  @Test
  void aDestinationThatKeepsFailingIsWarnedOncePerIntervalWithWhatWasNotShown() {
    String first = failures.failed(A, "EPERM");
    assertNotNull(first);
    assertTrue(first.contains("10.0.0.1") && first.contains("EPERM"), first);
    // a dead peer is written to every period: none of those is a WARN within the minute
    for (int i = 0; i < 59; i++) {
      now += Duration.ofSeconds(1).toNanos();
      assertNull(failures.failed(A, "EPERM"), "failure " + i);
    }
    now += Duration.ofSeconds(1).toNanos();
    String again = failures.failed(A, "EPERM");
    assertNotNull(again, "warned again after the interval");
    assertTrue(again.contains("59 more failed"), again);
    assertNull(failures.failed(A, "EPERM"));
  }

  @Test
  void eachDestinationIsWarnedOnItsOwnAndARecoveryIsOneInfoLine() {
    assertNotNull(failures.failed(A, "EPERM"));
    assertNotNull(failures.failed(B, "EPERM"), "another destination is its own fault");
    assertNull(
        failures.sent(new InetSocketAddress("10.0.0.3", 7000)),
        "a destination that never failed recovers from nothing");
    assertEquals("UDP datagrams to " + A + " can be sent again", failures.sent(A));
    assertNull(failures.sent(A), "one INFO line, not one per datagram");
    assertNotNull(failures.failed(A, "EPERM"), "failing again after a recovery is news");
  }

  @Test
  void manyFailingDestinationsAreRememberedUpToABound() {
    for (int i = 0; i < 10; i++) {
      now++;
      assertNotNull(failures.failed(new InetSocketAddress("10.0.1." + i, 7000), "EPERM"));
    }
    assertEquals(3, failures.tracked());
  }
}
