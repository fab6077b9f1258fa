package dhtnode.ring;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where a node's {@link RingState} survives restarts. {@link #save} returns only once the state is
 * durable: the ring actor answers no acceptor request before that. Blocking: call it off Akka's
 * default dispatcher (the ring actor runs on the blocking-IO dispatcher).
 */
public interface RingStateStore {

  /** The saved state, or {@link RingState#EMPTY} if none was ever saved. */
  RingState load();

  void save(RingState state);

  /** A store that keeps nothing across processes: for the in-memory storage engine and tests. */
  static RingStateStore inMemory() {
    AtomicReference<RingState> saved = new AtomicReference<>(RingState.EMPTY);
    return new RingStateStore() {
      @Override
      public RingState load() {
        return saved.get();
      }

      @Override
      public void save(RingState state) {
        saved.set(state);
      }
    };
  }

  /** The file {@code ring-state.json} in {@code dataDir}; see {@link FileStore}. */
  static RingStateStore inDirectory(Path dataDir) {
    return new FileStore(dataDir.resolve(FileStore.NAME));
  }

  /**
   * One small JSON file, replaced atomically: written to a temporary file, fsynced, renamed over
   * the old one, and the directory fsynced, so a crash leaves either the old or the new state,
   * never a torn one. The file carries {@code "format": 1}; a file of another format is refused
   * rather than misread.
   */
  final class FileStore implements RingStateStore {
    static final String NAME = "ring-state.json";
    static final int FORMAT = 1;
    private static final ObjectMapper JSON =
        new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path file;

    FileStore(Path file) {
      this.file = file;
    }

    public Path file() {
      return file;
    }

    @Override
    public RingState load() {
      if (!Files.exists(file)) {
        return RingState.EMPTY;
      }
      try {
        JsonNode root = JSON.readTree(file.toFile());
        int format = root.path("format").asInt(-1);
        if (format != FORMAT) {
          throw new IllegalStateException(
              file + " has format " + format + ", this node reads format " + FORMAT);
        }
        return JSON.treeToValue(root.path("state"), RingState.class);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read ring state " + file, e);
      }
    }

    @Override
    public void save(RingState state) {
      try {
        Files.createDirectories(file.getParent());
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.set("state", JSON.valueToTree(state));
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        Path tmp = file.resolveSibling(NAME + ".tmp");
        try (FileChannel ch =
            FileChannel.open(
                tmp,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
          ByteBuffer buffer = ByteBuffer.wrap(bytes);
          while (buffer.hasRemaining()) {
            ch.write(buffer);
          }
          ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
          dir.force(true); // the rename itself must survive a power loss
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write ring state " + file, e);
      }
    }
  }
}
