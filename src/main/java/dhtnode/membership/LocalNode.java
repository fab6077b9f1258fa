package dhtnode.membership;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Who this node is to SWIM: its name, the host it advertises (what its peers send to, and what its
 * member record carries), its cluster port, its HTTP port (gossiped so others can reach its API),
 * the seeds it joins through, the host it binds UDP on (0.0.0.0 for every interface) and the name
 * of its cluster (a JOIN from another cluster is refused). A seed given by host name is an
 * unresolved address, looked up at each send. A seed equal to its own address is ignored; a seed
 * list of only itself founds a new cluster.
 */
public record LocalNode(
    String name,
    String host,
    int clusterPort,
    int httpPort,
    List<InetSocketAddress> seeds,
    String bindHost,
    String clusterName) {

  /** The cluster name of a node that names none, and of every JOIN in wire versions 1 and 2. */
  public static final String DEFAULT_CLUSTER = "dht";

  public LocalNode {
    seeds = List.copyOf(seeds);
  }

  /** A node that binds the address it advertises, in the default cluster. */
  public LocalNode(
      String name, String host, int clusterPort, int httpPort, List<InetSocketAddress> seeds) {
    this(name, host, clusterPort, httpPort, seeds, host, DEFAULT_CLUSTER);
  }

  /** The advertised address: where the other members reach this node. */
  public InetSocketAddress address() {
    return new InetSocketAddress(host, clusterPort);
  }

  /** Where the UDP socket binds. */
  public InetSocketAddress bindAddress() {
    return new InetSocketAddress(bindHost, clusterPort);
  }

  /** The seeds other than this node itself (by its advertised or bound host and its port). */
  public List<InetSocketAddress> otherSeeds() {
    return seeds.stream().filter(s -> !isSelf(s)).toList();
  }

  private boolean isSelf(InetSocketAddress seed) {
    if (seed.getPort() != clusterPort) {
      return false;
    }
    String seedHost = seed.getHostString();
    return seedHost.equals(host)
        || seedHost.equals(bindHost)
        || (!seed.isUnresolved() && seed.equals(address()));
  }
}
