package dhtnode.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dhtnode.keyspace.TokenRange;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbEngineTest extends StorageEngineContract {
  @TempDir Path dir;

  @Override
  protected StorageEngine open() {
    return new RocksDbEngine(dir, false, 8 << 20);
  }

  @Test
  void reopeningTheDatabaseKeepsValuesTombstonesAndOrder() {
    List<String> keys = randomKeys(200, 9);
    keys.forEach(k -> engine.put(k, value(k, 1, "n")));
    engine.put(keys.get(0), Versioned.tombstone(new Version(2, "n")));
    List<StoredEntry> before = engine.scan(TokenRange.full(), null, 1000);
    engine.close();

    engine = open();
    List<StoredEntry> after = engine.scan(TokenRange.full(), null, 1000);
    assertEquals(before, after);
    assertTrue(engine.get(keys.get(0)).orElseThrow().tombstone());
    assertEquals(keys.get(1), text(engine.get(keys.get(1)).orElseThrow()));
  }

  @Test
  void fsyncModeStoresTheSameWay() {
    engine.close();
    engine = new RocksDbEngine(dir.resolve("synced"), true, 8 << 20);
    engine.put("k", value("durable", 1, "n"));
    assertEquals("durable", text(engine.get("k").orElseThrow()));
  }
}
