package dhtnode.stabilization;

import dhtnode.storage.StoredEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What two replicas must send each other so that both hold the newest version of every key of a
 * range, given each side's entries of that range. An entry goes across when the other side lacks
 * the key or holds an older version (last writer wins; tombstones are entries like any other).
 * Equal versions stay put; if their contents differ (one version written twice with different
 * values, which unique versions rule out but an old data directory may still hold) the key is
 * listed as a conflict and left alone: neither side's copy is more right, and replacing one could
 * drop an acknowledged write. Immutable.
 */
public final class Reconciliation {
  private final List<StoredEntry> toPull;
  private final List<StoredEntry> toPush;
  private final List<String> conflicts;

  private Reconciliation(
      List<StoredEntry> toPull, List<StoredEntry> toPush, List<String> conflicts) {
    this.toPull = List.copyOf(toPull);
    this.toPush = List.copyOf(toPush);
    this.conflicts = List.copyOf(conflicts);
  }

  public static Reconciliation of(Collection<StoredEntry> local, Collection<StoredEntry> remote) {
    Map<String, StoredEntry> localByKey = byKey(local);
    Map<String, StoredEntry> remoteByKey = byKey(remote);
    List<StoredEntry> pull = new ArrayList<>();
    List<String> conflicts = new ArrayList<>();
    for (StoredEntry r : remote) {
      StoredEntry l = localByKey.get(r.key());
      if (r.value().supersedes(l == null ? null : l.value())) {
        pull.add(r);
      } else if (l.value().version().equals(r.value().version()) && !l.value().equals(r.value())) {
        conflicts.add(r.key());
      }
    }
    List<StoredEntry> push = new ArrayList<>();
    for (StoredEntry l : local) {
      StoredEntry r = remoteByKey.get(l.key());
      if (l.value().supersedes(r == null ? null : r.value())) {
        push.add(l);
      }
    }
    return new Reconciliation(pull, push, conflicts);
  }

  private static Map<String, StoredEntry> byKey(Collection<StoredEntry> entries) {
    Map<String, StoredEntry> out = new HashMap<>(entries.size() * 2);
    for (StoredEntry e : entries) {
      out.put(e.key(), e);
    }
    return out;
  }

  /** Remote entries this side lacks or holds older, in the order the remote listed them. */
  public List<StoredEntry> toPull() {
    return toPull;
  }

  /** Keys both sides hold under one version with different contents, in remote order. */
  public List<String> conflicts() {
    return conflicts;
  }

  /** Local entries the remote lacks or holds older, in local order. */
  public List<StoredEntry> toPush() {
    return toPush;
  }
}
