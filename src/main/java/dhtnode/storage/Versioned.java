package dhtnode.storage;

import java.util.Objects;

/**
 * A value as every replica stores it: its bytes, content type, version and whether it is a
 * tombstone (a delete, kept so that an older write cannot resurrect the key). Immutable; the byte
 * array is owned by this record once constructed and never changed.
 */
public record Versioned(byte[] value, String contentType, Version version, boolean tombstone) {

  private static final byte[] EMPTY = new byte[0];

  public Versioned {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(version, "version");
  }

  public static Versioned of(byte[] value, String contentType, Version version) {
    return new Versioned(value, contentType, version, false);
  }

  public static Versioned tombstone(Version version) {
    return new Versioned(EMPTY, "", version, true);
  }

  /** True when this value should replace {@code current} on a replica (last writer wins). */
  public boolean supersedes(Versioned current) {
    return current == null || version.isNewerThan(current.version);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Versioned other
        && tombstone == other.tombstone
        && version.equals(other.version)
        && contentType.equals(other.contentType)
        && java.util.Arrays.equals(value, other.value);
  }

  @Override
  public int hashCode() {
    return 31 * version.hashCode() + java.util.Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return tombstone
        ? "Tombstone(" + version + ")"
        : "Versioned(" + value.length + " bytes, " + contentType + ", " + version + ")";
  }
}
