package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dhtnode.common.SettingsException;
import org.junit.jupiter.api.Test;

class RingSettingsTest {

  @Test
  void theDefaultIsReadFromReferenceConf() {
    assertEquals(256, RingSettings.from(ConfigFactory.load()).vnodes);
  }

  @Test
  void anOverrideIsRead() {
    assertEquals(
        64,
        RingSettings.from(
                ConfigFactory.parseString("dht.ring.vnodes = 64")
                    .withFallback(ConfigFactory.defaultReference()))
            .vnodes);
  }

  @Test
  void theRingAgreementDefaultsAreReadAndValidated() {
    RingSettings defaults = RingSettings.from(ConfigFactory.load());
    assertEquals(java.time.Duration.ofSeconds(30), defaults.removalDelay);
    assertEquals(10, RingSettings.ticks(defaults.catchUpInterval));
    assertEquals(false, defaults.foundCluster);
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () ->
                RingSettings.from(
                    ConfigFactory.parseString("dht.ring.catch-up-interval = 1ms")
                        .withFallback(ConfigFactory.load())));
    assertTrue(e.getMessage().startsWith("dht.ring.catch-up-interval "), e.getMessage());
  }

  @Test
  void outOfRangeOrWrongTypeOrMissingNamesTheKey() {
    for (String bad :
        new String[] {
          "dht.ring.vnodes = 0",
          "dht.ring.vnodes = 5000",
          "dht.ring.vnodes = lots",
          "dht.ring.other = 1"
        }) {
      SettingsException e =
          assertThrows(
              SettingsException.class,
              () ->
                  RingSettings.from(
                      ConfigFactory.parseString(bad)
                          .withFallback(ConfigFactory.parseString("dht.ring.other = 2"))),
              bad);
      assertTrue(e.getMessage().startsWith("dht.ring.vnodes "), e.getMessage());
    }
  }
}
