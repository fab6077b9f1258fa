package dhtnode.storage;

import dhtnode.keyspace.TokenRange;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A heap-only engine with the same ordering and last-writer-wins rules as RocksDB, for tests and
 * throwaway dev nodes. Nothing survives the process.
 */
public final class InMemoryEngine implements StorageEngine {
  private final NavigableMap<byte[], Versioned> data = new TreeMap<>(Arrays::compareUnsigned);

  @Override
  public Optional<Versioned> get(String key) {
    return Optional.ofNullable(data.get(KeyCodec.encode(key)));
  }

  @Override
  public Versioned put(String key, Versioned value) {
    byte[] k = KeyCodec.encode(key);
    Versioned current = data.get(k);
    if (value.supersedes(current)) {
      data.put(k, value);
      return value;
    }
    return current;
  }

  /** Compared against a scratch copy of the keys it touches, then applied in one step. */
  @Override
  public List<Versioned> putAll(List<Write> writes) {
    NavigableMap<byte[], Versioned> batch = new TreeMap<>(Arrays::compareUnsigned);
    List<Versioned> stored = new ArrayList<>(writes.size());
    for (Write w : writes) {
      byte[] k = KeyCodec.encode(w.key());
      Versioned current = batch.containsKey(k) ? batch.get(k) : data.get(k);
      if (w.value().supersedes(current)) {
        batch.put(k, w.value());
        stored.add(w.value());
      } else {
        stored.add(current);
      }
    }
    data.putAll(batch);
    return stored;
  }

  @Override
  public boolean purge(String key, Version expected) {
    byte[] k = KeyCodec.encode(key);
    Versioned current = data.get(k);
    if (current != null && current.version().equals(expected)) {
      data.remove(k);
      return true;
    }
    return false;
  }

  @Override
  public List<StoredEntry> scan(TokenRange range, String afterKey, int limit) {
    List<StoredEntry> out = new ArrayList<>(Math.min(limit, 1024));
    for (ScanPlan.Interval in : ScanPlan.of(range, afterKey)) {
      NavigableMap<byte[], Versioned> view =
          in.from() == null ? data : data.tailMap(in.from(), !in.skipFrom());
      for (Map.Entry<byte[], Versioned> e : view.entrySet()) {
        if (out.size() >= limit || !in.below(e.getKey())) {
          break;
        }
        out.add(
            new StoredEntry(KeyCodec.key(e.getKey()), KeyCodec.token(e.getKey()), e.getValue()));
      }
      if (out.size() >= limit) {
        break;
      }
    }
    return out;
  }

  @Override
  public long approximateKeyCount() {
    return data.size();
  }

  @Override
  public long approximateSizeBytes() {
    return 0;
  }

  @Override
  public void close() {
    data.clear();
  }
}
