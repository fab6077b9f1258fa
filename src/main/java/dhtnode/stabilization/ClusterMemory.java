package dhtnode.stabilization;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * What a node remembers across restarts about the cluster it last held all its ranges in: the
 * members of that ring, in a small file in its data directory. It decides whether a node that
 * finds no other replica to fill from may serve what it has: yes for a one-node cluster
 * restarting, no for a member of a larger cluster (it waits for the others). Null path: nothing
 * is remembered (the in-memory engine).
 */
public final class ClusterMemory {
  private final Path file;
  private List<String> remembered;

  public ClusterMemory(Path dataDir) {
    this.file = dataDir == null ? null : dataDir.resolve("settled-members");
  }

  /** The members last remembered, if any. */
  public Optional<List<String>> recall() {
    if (file == null || !Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(List.copyOf(Files.readAllLines(file, StandardCharsets.UTF_8)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** When this node last noted it was running (epoch millis), if ever. */
  public Optional<Long> lastAlive() {
    if (file == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Long.parseLong(Files.readString(aliveFile(), StandardCharsets.UTF_8).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Notes that this node is running now, so a restart can tell how long it was away. */
  void markAlive(long epochMillis) {
    if (file == null) {
      return;
    }
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling("last-alive.tmp");
      Files.writeString(tmp, Long.toString(epochMillis), StandardCharsets.UTF_8);
      Files.move(tmp, aliveFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // losing this only makes the next restart refill from scratch instead of resyncing
    }
  }

  private Path aliveFile() {
    return file.resolveSibling("last-alive");
  }

  void remember(Collection<String> members) {
    List<String> next = List.copyOf(members);
    if (file == null || next.equals(remembered)) {
      return;
    }
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling("settled-members.tmp");
      Files.write(tmp, next, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      remembered = next;
    } catch (IOException e) {
      // losing this only makes a later restart wait for the cluster instead of serving alone
    }
  }
}
