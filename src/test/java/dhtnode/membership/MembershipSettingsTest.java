package dhtnode.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dhtnode.common.SettingsException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MembershipSettingsTest {

  private static MembershipSettings with(String overrides) {
    return MembershipSettings.from(
        ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultReference()));
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    MembershipSettings s = with("");
    assertEquals(Duration.ofSeconds(1), s.protocolPeriod);
    assertEquals(Duration.ofMillis(300), s.pingTimeout);
    assertEquals(3, s.indirectProbes);
    assertEquals(1400, s.maxDatagramSize);
    // small clusters: two periods of suspicion; 100 members: four
    assertEquals(Duration.ofSeconds(2), s.suspicionTimeout(3));
    assertEquals(Duration.ofSeconds(2), s.suspicionTimeout(10));
    assertEquals(Duration.ofSeconds(4), s.suspicionTimeout(100));
    assertEquals(4, s.retransmitLimit(3));
  }

  @Test
  void pingTimeoutMustBeShorterThanThePeriod() {
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () -> with("dht.membership { protocol-period = 500ms, ping-timeout = 500ms }"));
    assertTrue(
        e.getMessage().startsWith("dht.membership.ping-timeout must be < protocol-period"),
        e.getMessage());
  }

  @Test
  void badValuesNameTheirKey() {
    assertTrue(
        assertThrows(SettingsException.class, () -> with("dht.membership.indirect-probes = -1"))
            .getMessage()
            .startsWith("dht.membership.indirect-probes "));
    assertTrue(
        assertThrows(SettingsException.class, () -> with("dht.membership.max-datagram-size = 10"))
            .getMessage()
            .startsWith("dht.membership.max-datagram-size "));
    assertTrue(
        assertThrows(SettingsException.class, () -> with("dht.membership.protocol-period = soon"))
            .getMessage()
            .startsWith("dht.membership.protocol-period "));
    assertTrue(
        assertThrows(
                SettingsException.class, () -> with("dht.membership.suspicion-multiplier = 0.5"))
            .getMessage()
            .startsWith("dht.membership.suspicion-multiplier "));
  }
}
