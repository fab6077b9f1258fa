package dhtnode.replication;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import dhtnode.keyspace.Murmur3;
import dhtnode.membership.Member;
import dhtnode.ring.RingSnapshot;
import dhtnode.ring.RingView;
import dhtnode.storage.StorageActor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a key into its replicas' storage refs using the current ring snapshot: this node's own
 * {@link StorageActor} directly, other nodes' ones resolved once per member address ({@code
 * akka://dht@host:port/user/storage}) and cached, so the hot path does no actor lookup by path.
 * Placements are cached per ring snapshot, keyed by the key's replica sets. Thread-safe: routes
 * read it concurrently; membership updates it.
 */
public final class ReplicaDirectory implements ReplicaLocator {
  private final String self;
  private final ActorRefResolver resolver;
  private final String systemName;
  private final RingView ringView;
  private final Map<String, ActorRef<StorageActor.Command>> storages = new ConcurrentHashMap<>();
  private final Map<String, Member> addresses = new ConcurrentHashMap<>();
  private volatile Cache cache = new Cache(null, new ConcurrentHashMap<>());

  private record Cache(RingSnapshot snapshot, Map<List<List<String>>, Placement> placements) {}

  public ReplicaDirectory(
      String self,
      ActorRef<StorageActor.Command> local,
      ActorRefResolver resolver,
      String systemName,
      RingView ringView) {
    this.self = self;
    this.resolver = resolver;
    this.systemName = systemName;
    this.ringView = ringView;
    storages.put(self, local);
  }

  /** Records where a member's storage lives; called before the ring can name the member. */
  public void memberUp(Member member) {
    if (member.name().equals(self)) {
      return;
    }
    addresses.put(member.name(), member);
    ActorRef<StorageActor.Command> ref = resolver.resolveActorRef(pathOf(member, "storage"));
    ActorRef<StorageActor.Command> before = storages.put(member.name(), ref);
    if (!ref.equals(before)) {
      // a member first heard of, or moved: lists cached without it (or with its old address) are
      // stale. Ring epochs no longer follow SWIM joins, so a new snapshot may not come to replace
      // them
      cache = new Cache(null, new ConcurrentHashMap<>());
    }
  }

  private String pathOf(Member member, String actor) {
    return "akka://"
        + systemName
        + "@"
        + member.host()
        + ":"
        + member.clusterPort()
        + "/user/"
        + actor;
  }

  /** A member's cluster address, {@code host:port}, or null while it is unknown. */
  public String clusterAddressOf(String member) {
    Member m = addresses.get(member);
    return m == null ? null : m.host() + ":" + m.clusterPort();
  }

  /**
   * A ref to the top-level actor {@code actor} (e.g. "stabilizer") on a named member, or null if
   * its address is unknown. Resolving is cheap but not free; callers off the hot path only.
   */
  public <T> ActorRef<T> remoteActor(String member, String actor) {
    Member m = addresses.get(member);
    return m == null ? null : resolver.resolveActorRef(pathOf(m, actor));
  }

  @Override
  public Placement placementFor(String key) {
    RingSnapshot snapshot = ringView.current();
    Cache c = cache;
    if (c.snapshot() != snapshot) {
      c = new Cache(snapshot, new ConcurrentHashMap<>());
      cache = c;
    }
    // the write sets start with the read set, so they name the placement whole
    List<List<String>> sets = snapshot.writeSets(Murmur3.token(key));
    return c.placements()
        .computeIfAbsent(sets, s -> Placement.of(snapshot.epoch(), s.get(0), s, this::replicaOf));
  }

  private Replica replicaOf(String name) {
    ActorRef<StorageActor.Command> ref = storages.get(name);
    return ref == null ? null : new Replica(name, ref); // unknown address: it cannot answer
  }
}
