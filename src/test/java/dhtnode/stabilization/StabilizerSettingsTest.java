package dhtnode.stabilization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dhtnode.common.SettingsException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class StabilizerSettingsTest {

  private static Config with(String overrides) {
    return ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  @Test
  void defaultsComeFromReferenceConf() {
    StabilizerSettings s = StabilizerSettings.from(ConfigFactory.defaultReference());
    assertEquals(1000, s.batchSize);
    assertEquals(128 * 1024, s.maxBatchBytes);
    assertEquals(10, s.merkleDepth);
    assertEquals(Duration.ofSeconds(5), s.stepTimeout);
    assertEquals(Duration.ofSeconds(60), s.treeTimeout);
    assertEquals(16, s.maxConcurrentSessions);
  }

  @Test
  void anOutOfRangeValueIsRejectedNamingItsKey() {
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () -> StabilizerSettings.from(with("dht.stabilization.merkle-depth = 21")));
    assertTrue(e.getMessage().startsWith("dht.stabilization.merkle-depth "), e.getMessage());
    e =
        assertThrows(
            SettingsException.class,
            () -> StabilizerSettings.from(with("dht.stabilization.batch-size = 0")));
    assertTrue(e.getMessage().startsWith("dht.stabilization.batch-size "), e.getMessage());
    e =
        assertThrows(
            SettingsException.class,
            () -> StabilizerSettings.from(with("dht.stabilization.step-timeout = 1ms")));
    assertTrue(e.getMessage().startsWith("dht.stabilization.step-timeout "), e.getMessage());
  }

  @Test
  void aMissingOrMistypedValueIsRejectedNamingItsKey() {
    Config missing =
        ConfigFactory.defaultReference().withoutPath("dht.stabilization.max-concurrent-sessions");
    SettingsException e =
        assertThrows(SettingsException.class, () -> StabilizerSettings.from(missing));
    assertTrue(
        e.getMessage().startsWith("dht.stabilization.max-concurrent-sessions is missing"),
        e.getMessage());
    e =
        assertThrows(
            SettingsException.class,
            () -> StabilizerSettings.from(with("dht.stabilization.tree-timeout = soon")));
    assertTrue(e.getMessage().startsWith("dht.stabilization.tree-timeout "), e.getMessage());
  }
}
