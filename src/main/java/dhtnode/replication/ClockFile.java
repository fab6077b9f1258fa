package dhtnode.replication;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;

/**
 * The hybrid clock's reservation in a node's data directory: one file, {@code clock}, holding the
 * highest timestamp the node may issue, as decimal text. A write goes to a temporary file that is
 * forced to disk and then atomically renamed over the old one, and the directory is forced too, so
 * after a crash the file holds either the old reservation or the new one, never a torn mix.
 * Blocking file I/O: call it only off Akka's default dispatcher (the {@link ClockKeeper} runs on
 * the blocking-I/O dispatcher), or once at start.
 */
public final class ClockFile {
  static final String NAME = "clock";

  private final Path dir;
  private final Path file;
  private final Path temp;

  public ClockFile(Path dataDir) {
    this.dir = dataDir;
    this.file = dataDir.resolve(NAME);
    this.temp = dataDir.resolve(NAME + ".tmp");
  }

  public Path path() {
    return file;
  }

  /**
   * The reservation last written, or empty when there is none (a new data directory).
   *
   * @throws IOException when the file cannot be read or does not hold a reservation: the node must
   *     then not start, since it cannot know which versions it already issued
   */
  public OptionalLong read() throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(text));
    } catch (NumberFormatException e) {
      throw new IOException(
          file
              + " does not hold a clock reservation (\""
              + text
              + "\"); remove it only if no version this node issued is stored anywhere",
          e);
    }
  }

  /** Durably replaces the reservation with {@code upTo}. */
  public void write(long upTo) throws IOException {
    Files.createDirectories(dir);
    byte[] bytes = (upTo + "\n").getBytes(StandardCharsets.US_ASCII);
    try (FileChannel ch =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true); // the rename itself must survive a crash
    } catch (IOException e) {
      // some file systems cannot open a directory for fsync; the file's own data is forced
    }
  }
}
