package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageSettingsTest {

  private static StorageSettings settings(String engine, Path dir) {
    return StorageSettings.from(
        ConfigFactory.parseString(
                "dht.storage.engine = "
                    + engine
                    + "\ndht.node.data-dir = \""
                    + dir.toString().replace("\\", "/")
                    + "\"")
            .withFallback(ConfigFactory.defaultReference())
            .resolve());
  }

  @Test
  void aNodeStartsEmptyInMemoryOrWithAMissingOrEmptyDataDirectory(@TempDir Path dir)
      throws Exception {
    assertTrue(settings("memory", dir).startsEmpty());
    assertTrue(settings("rocksdb", dir.resolve("missing")).startsEmpty());
    assertTrue(settings("rocksdb", dir).startsEmpty());
    Files.writeString(dir.resolve("CURRENT"), "MANIFEST-000001\n");
    assertFalse(settings("rocksdb", dir).startsEmpty());
    assertTrue(
        settings("memory", dir).startsEmpty(),
        "in memory nothing survives, whatever the directory holds");
  }
}
