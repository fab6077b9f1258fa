package dhtnode.storage;

import java.util.Objects;

/**
 * The version of a stored value: a hybrid-logical-clock timestamp and the name of the node that
 * wrote it. Totally ordered: timestamp first, writer name as the tie-break, so every replica picks
 * the same winner for the same pair of writes (last writer wins).
 */
public record Version(long timestamp, String writer) implements Comparable<Version> {

  public Version {
    Objects.requireNonNull(writer, "writer");
  }

  @Override
  public int compareTo(Version other) {
    int byTime = Long.compare(timestamp, other.timestamp);
    return byTime != 0 ? byTime : writer.compareTo(other.writer);
  }

  public boolean isNewerThan(Version other) {
    return compareTo(other) > 0;
  }

  /** Wire and header form, {@code <timestamp>@<writer>}; parsed back by {@link #parse}. */
  @Override
  public String toString() {
    return timestamp + "@" + writer;
  }

  public static Version parse(String text) {
    int at = text.indexOf('@');
    if (at <= 0 || at == text.length() - 1) {
      throw new IllegalArgumentException("not a version: " + text);
    }
    return new Version(Long.parseLong(text.substring(0, at)), text.substring(at + 1));
  }
}
