package dhtnode.storage;

import static dhtnode.common.ConfigValues.bad;
import static dhtnode.common.ConfigValues.bytesIn;
import static dhtnode.common.ConfigValues.enumIn;
import static dhtnode.common.ConfigValues.get;
import static dhtnode.common.ConfigValues.string;

import com.typesafe.config.Config;
import dhtnode.common.SettingsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The validated {@code dht.storage { }} and the node's data directory: which engine stores the
 * data, where, with what cache and whether each write is synced to disk.
 */
public final class StorageSettings {

  public enum Engine {
    ROCKSDB,
    MEMORY
  }

  public final Path dataDir;
  public final Engine engine;
  public final boolean fsync;
  public final long blockCacheBytes;

  private StorageSettings(Config c) {
    String dir = string(c, "dht.node.data-dir");
    if (dir.isBlank()) {
      throw bad("dht.node.data-dir", "must not be empty");
    }
    dataDir = Path.of(dir);
    engine = enumIn(c, "dht.storage.engine", Engine.class, "rocksdb or memory");
    fsync = get("dht.storage.fsync", () -> c.getBoolean("dht.storage.fsync"));
    blockCacheBytes = bytesIn(c, "dht.storage.block-cache-size", 1 << 20, 1L << 40);
  }

  /** Reads and validates; throws {@link SettingsException} naming the first bad key. */
  public static StorageSettings from(Config config) {
    return new StorageSettings(config);
  }

  /** Opens the configured engine; called once, by the storage actor as it starts. */
  public Supplier<StorageEngine> engineFactory() {
    return switch (engine) {
      case ROCKSDB -> () -> new RocksDbEngine(dataDir, fsync, blockCacheBytes);
      case MEMORY -> InMemoryEngine::new;
    };
  }

  /** Whether data (and what the node remembers of its cluster) outlives the process. */
  public boolean durable() {
    return engine == Engine.ROCKSDB;
  }

  /**
   * Whether this node starts without the data it may have held: an in-memory engine always does;
   * RocksDB when the data directory is missing or empty (first start, or a replaced disk).
   */
  public boolean startsEmpty() {
    if (!durable()) {
      return true;
    }
    try (Stream<Path> files = Files.list(dataDir)) {
      return files.findAny().isEmpty();
    } catch (IOException e) {
      return true; // missing or unreadable: RocksDB creates it empty
    }
  }

  /** The engine's name as logged and shown in /metrics. */
  public String engineName() {
    return engine.name().toLowerCase(Locale.ROOT);
  }
}
