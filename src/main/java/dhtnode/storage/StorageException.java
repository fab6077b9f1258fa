package dhtnode.storage;

/** An engine failed to read or write (disk full, corruption, closed). */
public final class StorageException extends RuntimeException {
  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
