package dhtnode.storage;

import dhtnode.keyspace.TokenRange;
import java.util.List;
import java.util.Optional;

/**
 * An in-memory engine that a test engine wraps to change one or two calls (fail one, count one,
 * hold one back) while every other call behaves as the real thing.
 */
abstract class ForwardingEngine implements StorageEngine {
  final InMemoryEngine delegate = new InMemoryEngine();

  @Override
  public Optional<Versioned> get(String key) {
    return delegate.get(key);
  }

  @Override
  public Versioned put(String key, Versioned value) {
    return delegate.put(key, value);
  }

  @Override
  public List<Versioned> putAll(List<Write> writes) {
    return delegate.putAll(writes);
  }

  @Override
  public boolean purge(String key, Version expected) {
    return delegate.purge(key, expected);
  }

  @Override
  public List<StoredEntry> scan(TokenRange range, String afterKey, int limit) {
    return delegate.scan(range, afterKey, limit);
  }

  @Override
  public long approximateKeyCount() {
    return delegate.approximateKeyCount();
  }

  @Override
  public long approximateSizeBytes() {
    return 0;
  }

  @Override
  public void close() {
    delegate.close();
  }
}
