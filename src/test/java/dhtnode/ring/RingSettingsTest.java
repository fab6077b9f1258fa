package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dhtnode.SettingsException;
import org.junit.jupiter.api.Test;

class RingSettingsTest {

  @Test
  void theDefaultIsReadFromReferenceConf() {
    assertEquals(256, RingSettings.from(ConfigFactory.load()).vnodes);
  }

  @Test
  void anOverrideIsRead() {
    assertEquals(64, RingSettings.from(ConfigFactory.parseString("dht.ring.vnodes = 64")).vnodes);
  }

  @Test
  void outOfRangeOrWrongTypeOrMissingNamesTheKey() {
    for (String bad : new String[] {"dht.ring.vnodes = 0", "dht.ring.vnodes = 5000",
        "dht.ring.vnodes = lots", "dht.ring.other = 1"}) {
      SettingsException e = assertThrows(SettingsException.class,
          () -> RingSettings.from(ConfigFactory.parseString(bad)), bad);
      assertTrue(e.getMessage().startsWith("dht.ring.vnodes "), e.getMessage());
    }
  }
}
