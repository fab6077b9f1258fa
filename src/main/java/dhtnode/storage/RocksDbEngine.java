package dhtnode.storage;

import dhtnode.keyspace.TokenRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The durable engine: one RocksDB database in the node's data directory. Every write goes through
 * RocksDB's write-ahead log, so an acknowledged write survives a crash of the process; with {@code
 * fsync} on, each write is also synced to disk before it returns, so it survives a crash of the
 * machine. Values are never deleted by RocksDB itself (tombstones are ordinary values), so
 * compaction cannot drop a delete before the stabilizer collects it.
 */
public final class RocksDbEngine implements StorageEngine {
  static {
    RocksDB.loadLibrary();
  }

  private final Path dir;
  private final Options options;
  private final LRUCache blockCache;
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;
  private final RocksDB db;

  public RocksDbEngine(Path dir, boolean fsync, long blockCacheBytes) {
    this.dir = dir;
    try {
      Files.createDirectories(dir);
      blockCache = new LRUCache(blockCacheBytes);
      BlockBasedTableConfig table =
          new BlockBasedTableConfig()
              .setBlockCache(blockCache)
              .setFilterPolicy(new BloomFilter(10, false))
              .setCacheIndexAndFilterBlocks(true);
      options =
          new Options()
              .setCreateIfMissing(true)
              .setTableFormatConfig(table)
              .setMaxBackgroundJobs(2)
              .setKeepLogFileNum(3);
      writeOptions = new WriteOptions().setSync(fsync);
      readOptions = new ReadOptions();
      db = RocksDB.open(options, dir.toString());
    } catch (RocksDBException | java.io.IOException e) {
      throw new StorageException("cannot open RocksDB in " + dir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<Versioned> get(String key) {
    try {
      byte[] bytes = db.get(readOptions, KeyCodec.encode(key));
      return bytes == null ? Optional.empty() : Optional.of(ValueCodec.decode(bytes));
    } catch (RocksDBException e) {
      throw new StorageException("get failed in " + dir, e);
    }
  }

  @Override
  public Versioned put(String key, Versioned value) {
    byte[] k = KeyCodec.encode(key);
    try {
      byte[] current = db.get(readOptions, k);
      if (current != null) {
        Version stored = ValueCodec.decodeVersion(current);
        if (!value.version().isNewerThan(stored)) {
          return ValueCodec.decode(current);
        }
      }
      db.put(writeOptions, k, ValueCodec.encode(value));
      return value;
    } catch (RocksDBException e) {
      throw new StorageException("put failed in " + dir, e);
    }
  }

  /**
   * One {@link WriteBatch} for the whole list, written with the engine's write options: RocksDB
   * applies a batch atomically (after a crash its WAL replays all of it or none), and with {@code
   * fsync} on syncs the log once for it. Versions are compared against what earlier writes of the
   * batch left, kept in {@code latest}, before the database.
   */
  @Override
  public List<Versioned> putAll(List<Write> writes) {
    List<Versioned> stored = new ArrayList<>(writes.size());
    Map<String, Versioned> latest = new HashMap<>();
    try (WriteBatch batch = new WriteBatch()) {
      for (Write w : writes) {
        byte[] k = KeyCodec.encode(w.key());
        Versioned current = latest.get(w.key());
        if (current == null) {
          byte[] bytes = db.get(readOptions, k);
          if (bytes != null && !w.value().version().isNewerThan(ValueCodec.decodeVersion(bytes))) {
            current = ValueCodec.decode(bytes);
          }
        }
        if (current != null && !w.value().supersedes(current)) {
          latest.put(w.key(), current);
          stored.add(current);
          continue;
        }
        batch.put(k, ValueCodec.encode(w.value()));
        latest.put(w.key(), w.value());
        stored.add(w.value());
      }
      if (batch.count() > 0) {
        db.write(writeOptions, batch);
      }
      return stored;
    } catch (RocksDBException e) {
      throw new StorageException("batch of " + writes.size() + " writes failed in " + dir, e);
    }
  }

  @Override
  public boolean purge(String key, Version expected) {
    byte[] k = KeyCodec.encode(key);
    try {
      byte[] current = db.get(readOptions, k);
      if (current == null || !ValueCodec.decodeVersion(current).equals(expected)) {
        return false;
      }
      db.delete(writeOptions, k);
      return true;
    } catch (RocksDBException e) {
      throw new StorageException("purge failed in " + dir, e);
    }
  }

  @Override
  public List<StoredEntry> scan(TokenRange range, String afterKey, int limit) {
    List<StoredEntry> out = new ArrayList<>(Math.min(limit, 1024));
    try (RocksIterator it = db.newIterator(readOptions)) {
      for (ScanPlan.Interval in : ScanPlan.of(range, afterKey)) {
        if (in.from() == null) {
          it.seekToFirst();
        } else {
          it.seek(in.from());
          if (in.skipFrom() && it.isValid() && Arrays.equals(it.key(), in.from())) {
            it.next();
          }
        }
        for (; it.isValid() && out.size() < limit; it.next()) {
          byte[] k = it.key();
          if (!in.below(k)) {
            break;
          }
          out.add(
              new StoredEntry(KeyCodec.key(k), KeyCodec.token(k), ValueCodec.decode(it.value())));
        }
        it.status();
        if (out.size() >= limit) {
          break;
        }
      }
    } catch (RocksDBException e) {
      throw new StorageException("scan failed in " + dir, e);
    }
    return out;
  }

  @Override
  public long approximateKeyCount() {
    return longProperty("rocksdb.estimate-num-keys");
  }

  @Override
  public long approximateSizeBytes() {
    return longProperty("rocksdb.total-sst-files-size")
        + longProperty("rocksdb.cur-size-all-mem-tables");
  }

  private long longProperty(String name) {
    try {
      return db.getLongProperty(name);
    } catch (RocksDBException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    try {
      db.flushWal(true);
    } catch (RocksDBException e) {
      // the WAL is already written; a failed sync on close loses nothing a crash would keep
    }
    db.close();
    readOptions.close();
    writeOptions.close();
    options.close();
    blockCache.close();
  }
}
