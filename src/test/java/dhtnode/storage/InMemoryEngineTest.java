package dhtnode.storage;

class InMemoryEngineTest extends StorageEngineContract {
  @Override
  protected StorageEngine open() {
    return new InMemoryEngine();
  }
}
